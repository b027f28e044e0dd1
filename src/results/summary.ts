import { z } from 'zod';
import { ACTIVATIONS, type Config } from '../config/types.js';

/**
 * The JSON summary written beside each run's CSV (docs/science.md §8): one schema, used by the
 * writer (src/sweep/runOne.ts, whose object must satisfy it) and by every reader (status, merge,
 * resume, figures, tables), so that a file that does not match is reported the same way everywhere.
 *
 * Fields that older versions did not write are optional; fields this schema does not know are
 * carried along untouched (a newer summary read by an older reader still loads). JSON has no NaN:
 * a NaN written (a log value not defined at that point) reads back as null.
 */

const finite = z.number();
const nullableNumber = z.number().nullable();

export const RunSummarySchema = z.looseObject({
  id: z.string(),
  run: z.looseObject({
    activation: z.enum(ACTIVATIONS),
    /** A preset's name, or a composed optimizer's own (docs/science.md §12). */
    optimizer: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/),
    beta: finite,
    seed: z.int().min(0),
    /** The norm it should win the margin of: a standard norm, or a composed optimizer's own implied norm (its name). */
    family: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/),
  }),
  status: z.enum(['ok', 'failed']),
  failure: z.object({ step: z.int(), reason: z.string() }).nullable(),
  /** The last CSV row (NaN → null). */
  final: z.record(z.string(), nullableNumber).nullable(),
  steps_completed: z.int().min(0),
  /**
   * Why and when the run ended (docs/science.md §11.3): `target_loss` (first step at or below
   * `train.target_log10_loss`), `steps` (ran `train.steps` updates; the target, if any, not
   * reached) or `failure`; `step` is the last step, `log10_loss` its loss. Older summaries lack it.
   */
  stop: z
    .looseObject({
      reason: z.enum(['target_loss', 'steps', 'failure']),
      step: z.int().min(0),
      log10_loss: nullableNumber,
      target_log10_loss: nullableNumber,
    })
    .optional(),
  /**
   * The norms this run logged beyond the four standard ones (docs/science.md §12.6), in CSV column
   * order: name, labels and the norm written out. Absent where there are none (every older summary).
   */
  logged_norms: z.array(z.looseObject({ name: z.string(), text: z.string(), latex: z.string(), definition: z.string(), definition_latex: z.string() })).optional(),
  /** NaN (null in the file) when the run threw before computing it. */
  eta0: nullableNumber,
  own_norm_init: nullableNumber,
  homogeneity_degree: z.int().min(1),
  /** `test`: the held-out set of `data.test` (docs/science.md §2.1), where the config has one. */
  data: z.looseObject({
    source: z.unknown(),
    n: z.int().min(1),
    classes: z.array(z.int()),
    indices: z.array(z.int()),
    test: z.looseObject({ source: z.unknown(), n: z.int().min(1), indices: z.array(z.int()) }).optional(),
  }),
  /** The resolved config the run was made with (validated when it was loaded). */
  config: z.custom<Readonly<Config>>((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { error: 'expected the resolved config' }),
  config_hash: z.string(),
  /** The run's identity (src/results/hash.ts): a rerun skips the run when it matches. */
  run_hash: z.string().optional(),
  /** sha256 (hex) of the CSV as written: a resumed sweep or a merge checks the file against it. */
  csv_sha256: z.string().optional(),
  engine: z.string(),
  /**
   * Host ↔ device traffic per training step, bytes, averaged over the steps that are not log points
   * (runs the TF.js engine held on its device; docs/engines.md). Absent for f64 runs.
   */
  transfer: z.object({ down_bytes_per_step: finite, up_bytes_per_step: finite }).optional(),
  /**
   * Where the run's first layer trained (src/train/parametrization.ts): `full` (W_1 itself) or
   * `span` (its coordinates in the data's row space). The same run either way but for rounding, so
   * unlike `engine` it is not a setting (src/report/settings.ts leaves it out). Absent in older
   * summaries and where the engine could not be built.
   */
  engine_path: z.string().optional(),
  /**
   * Robust accuracy of θ_T on the held-out set per ball and radius, by PGD (docs/science.md §13.2),
   * where `log.robust` lists radii and the run did not fail; `time_s` is the attack's, outside
   * wall_time_s. Absent otherwise (every older summary).
   */
  robust: z
    .looseObject({
      set: z.literal('test'),
      n: z.int().min(1),
      steps: z.int().min(1),
      restarts: z.int().min(1),
      seed: z.int(),
      points: z.array(z.looseObject({ ball: z.enum(['linf', 'l2']), radius: finite, accuracy: finite })),
      time_s: finite,
    })
    .optional(),
  /**
   * A depth-1 run's exact max-margin optima per logged norm (docs/science.md §14.5): the solved
   * linear norm, γ*_N, the certificate's relative gap, the solver and whether it met its tolerance.
   * W* lies in <out>/optima. Absent for deeper networks (and every older summary).
   */
  optima: z
    .array(z.looseObject({ name: z.string(), base: z.string(), gamma: finite, gap: z.number(), converged: z.boolean(), solver: z.string() }))
    .optional(),
  wall_time_s: finite,
  ms_per_step: finite,
  started_at: z.string(),
  finished_at: z.string(),
  versions: z.record(z.string(), z.string().nullable()),
  git_commit: z.string().nullable(),
  files: z.looseObject({ csv: z.string(), init_weights: z.string().optional(), final_weights: z.string().optional() }),
});

/** A summary as read back. */
export type RunSummary = z.infer<typeof RunSummarySchema>;

export type SummaryRead = { ok: true; summary: RunSummary } | { ok: false; reason: string };

/**
 * A summary file's text, parsed and checked: the summary, or why it is not one (not JSON, or the
 * first key that does not match, e.g. `run.seed: expected int`).
 */
export function parseSummary(text: string): SummaryRead {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'not valid JSON (truncated or edited?)' };
  }
  const result = RunSummarySchema.safeParse(raw);
  if (result.success) return { ok: true, summary: result.data };
  const issue = result.error.issues[0]!;
  const key = issue.path.length > 0 ? issue.path.join('.') : '(top level)';
  return { ok: false, reason: `not a run summary: ${key}: ${issue.message}` };
}
