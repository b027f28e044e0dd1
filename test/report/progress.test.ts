// Sweep progress off a terminal (CI logs): one plain line per finished run, in finishing order,
// with the failures so far and an ETA weighted by expected cost.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createProgress, formatDuration } from '../../src/report/progress.js';

test('formatDuration: seconds, minutes, hours', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(59.4), '59s');
  assert.equal(formatDuration(95), '1m35s');
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(NaN), '?');
});

test('off a terminal: a plan line, then [k/N] <run> <message> | failures | ETA; no control characters', () => {
  let out = '';
  const stream = { isTTY: false, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
  const p = createProgress({ runs: 3, cost: 40 }, stream);
  p.note('sweep: 3 runs');
  p.runStarted('a', 10, 100);
  p.runStarted('b', 20, 100);
  p.runProgress('b', 50);
  p.runFinished('a', true, 'log10 loss -3.0');
  p.runStarted('c', 10, 100);
  p.runFinished('c', false, 'FAILED: non-finite loss at step 7');
  p.runFinished('b', true, 'log10 loss -2.0');
  p.stop();
  const lines = out.split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines[0], 'sweep: 3 runs');
  assert.match(lines[1]!, /^\[1\/3\] a log10 loss -3\.0 \| ETA \S+$/);
  assert.match(lines[2]!, /^\[2\/3\] c FAILED: non-finite loss at step 7 \| 1 failed \| ETA \S+$/);
  assert.equal(lines[3], '[3/3] b log10 loss -2.0 | 1 failed', 'no ETA once everything is done');
  assert.ok(!/\x1b/.test(out));
});
