import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/errors.js';
import { chooseShard, shardFromEnv } from '../../src/sweep/shard.js';
import { arrayScript, mergeScript, parseSlurmTime, shellQuote, slurmTime, type SlurmPlan } from '../../src/commands/slurm.js';

test('a Slurm array task takes its shard counted from SLURM_ARRAY_TASK_MIN', () => {
  const s = shardFromEnv({ SLURM_ARRAY_TASK_ID: '0', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '8' });
  assert.deepEqual([s?.index, s?.count], [1, 8]);
  const t = shardFromEnv({ SLURM_ARRAY_TASK_ID: '8', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '8' });
  assert.deepEqual([t?.index, t?.count], [8, 8]);
  // A stepped array (0-15:4 gives ids 0,4,8,12, count 4) is refused with a line naming the rule.
  assert.throws(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '12', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_COUNT: '4' }), (e: unknown) => e instanceof UsageError && /consecutive/.test(e.message));
  assert.throws(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '4' }), /SLURM_ARRAY_TASK_MIN/);
});

test('--shard wins over the environment, with one note only when they disagree', () => {
  const notes: string[] = [];
  const env = { SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_COUNT: '4' };
  assert.deepEqual(chooseShard('3/4', env, (l) => notes.push(l))?.index, 3);
  assert.equal(notes.length, 1);
  assert.match(notes[0]!, /--shard 3\/4 wins over SLURM_ARRAY_TASK_ID=2/);
  chooseShard('2/4', env, (l) => notes.push(l));
  assert.equal(notes.length, 1);
  assert.equal(chooseShard(undefined, env, (l) => notes.push(l))?.index, 2);
});

const plan: SlurmPlan = {
  name: 'paper', config: '/c/paper.yaml', out: '/r/paper', shardsDir: '/r/paper-shards', tasks: 64, jobs: 4,
  time: '02:00:00', mergeTime: '00:10:00', partition: 'gpu', account: 'lab', gres: 'gpu:1', qos: 'normal',
  extra: ['--mem=8G'], sets: ['train.engine=tfjs', "name=it's"], requeue: true, launcher: ['/usr/bin/node', '/m/bin/margin-bench.js'],
};

test('the array script: one task per shard, cpus from --jobs, the options passed through', () => {
  const text = arrayScript(plan);
  for (const line of ['#SBATCH --array=1-64', '#SBATCH --cpus-per-task=4', '#SBATCH --time=02:00:00', '#SBATCH --partition=gpu', '#SBATCH --account=lab', '#SBATCH --qos=normal', '#SBATCH --gres=gpu:1', '#SBATCH --requeue', '#SBATCH --mem=8G']) {
    assert.ok(text.split('\n').includes(line), `${line} in\n${text}`);
  }
  assert.match(text, /run \/c\/paper\.yaml --set train\.engine=tfjs --set 'name=it'\\''s' --jobs 4 --no-progress --out \/r\/paper-shards\/shard-"\$SLURM_ARRAY_TASK_ID"/);
  const merge = mergeScript(plan);
  assert.match(merge, /merge \/r\/paper-shards\/shard-1 .* \/r\/paper-shards\/shard-64 --out \/r\/paper\n/);
  assert.match(merge, /figures \/r\/paper\n/);
  assert.ok(!merge.includes('--gres'), 'the merge job asks for no GPU');
  assert.ok(arrayScript({ ...plan, requeue: false }).includes('#SBATCH --no-requeue'));
});

test('Slurm time limits: seconds round up to minutes; the user form is checked', () => {
  assert.equal(slurmTime(61), '00:02:00');
  assert.equal(slurmTime(90_000), '1-01:00:00');
  assert.equal(parseSlurmTime('6:00:00'), '6:00:00');
  assert.throws(() => parseSlurmTime('6h'), UsageError);
  assert.equal(shellQuote('a b'), "'a b'");
});
