import { Command, InvalidArgumentError } from 'commander';

const positiveInt = (flag: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} expects a positive integer, got ${v}`);
  return n;
};

/** `margin-bench gpu-check`: on a GPU machine, the device engine against f64 and the paper setting's speed (src/engine/tfjs/gpuCheck.ts). */
export function gpuCheckCommand(): Command {
  return new Command('gpu-check')
    .description('on a machine with a GPU: list the engines, check the device engine against the f64 engine, and time the paper setting (width 2048, 60,000 parity digits)')
    .option('--backend <name>', 'check this backend even if it is not a GPU (tensorflow-gpu, webgpu, wasm, …); default: the first of tensorflow-gpu, webgpu that runs on a GPU')
    .option('--idx <folder>', 'folder with full MNIST\'s IDX files for the timing; without them the embedded digits are repeated (and it says so)', 'data/mnist')
    .option('--digits <n>', 'training digits of the timed setting', positiveInt('--digits'), 60000)
    .option('--width <m>', 'hidden width of the timed setting', positiveInt('--width'), 2048)
    .option('--steps <k>', 'timed steps per measurement (after 2 warm-up steps)', positiveInt('--steps'), 5)
    .option('--check-steps <k>', 'training steps of the check against the f64 engine', positiveInt('--check-steps'), 200)
    .option('--no-lockstep', 'do not time the six optimizers as one lockstep batch (it needs ~6× the device memory of one run)')
    .addHelpText(
      'after',
      `
Prints the engines, the check against the f64 engine (docs/science.md §9 data, squared ReLU,
200 steps by default; every final margin within 1e-3 relative), ms per training step for each optimizer at the
timed setting, the 10-seed grid's estimated time, and a block to paste into docs/engines.md.
Exit code: 0 when the check passes; 1 when there is no GPU (it says which backends it tried and
why) or the device engine is off the f64 engine.

Examples:
  npm run gpu-check
  margin-bench gpu-check --idx ~/mnist
  margin-bench gpu-check --backend webgpu --digits 2000 --width 256   # a dry run on lavapipe (a CPU)`,
    )
    .action(async (flags: { backend?: string; idx: string; digits: number; width: number; steps: number; checkSteps: number; lockstep: boolean }) => {
      // TF.js is loaded only here and by the tfjs engine itself.
      const { GPU_CHECK_DEFAULTS, gpuCheck } = await import('../engine/tfjs/gpuCheck.js');
      const { BACKEND_INFO } = await import('../engine/tfjs/backends.js');
      const { UsageError } = await import('../errors.js');
      if (flags.backend !== undefined && !(flags.backend in BACKEND_INFO)) {
        throw new UsageError(`--backend: expected one of ${Object.keys(BACKEND_INFO).join(', ')}, got ${flags.backend}`);
      }
      const options = {
        ...GPU_CHECK_DEFAULTS,
        backend: (flags.backend ?? null) as keyof typeof BACKEND_INFO | null,
        idx: flags.idx,
        digits: flags.digits,
        width: flags.width,
        steps: flags.steps,
        lockstep: flags.lockstep,
        checkSteps: flags.checkSteps,
      };
      await gpuCheck(options, (line) => process.stdout.write(`${line}\n`));
    });
}
