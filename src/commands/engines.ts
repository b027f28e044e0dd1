import { Command } from 'commander';

/** `margin-bench engines`: which engines and TF.js backends are installed and usable here, and why not. */
export function enginesCommand(): Command {
  return new Command('engines')
    .description('list the engines and TF.js backends: usable, installed but not usable (and why), or missing (with the install command)')
    .option('--json', 'print the report as JSON', false)
    .addHelpText(
      'after',
      `
The f64 engine is always usable. The tfjs engine runs on the first usable backend of
tensorflow-gpu > tensorflow > wasm > cpu with --backend auto; webgpu only when asked for.
wasm and cpu come with margin-bench, webgpu too wherever npm could install its optional
dependencies (usable where a Vulkan, Metal or D3D12 driver exposes a GPU); tensorflow and
tensorflow-gpu are manual installs (commands below). A GPU check: margin-bench gpu-check.
Exit code: 0.

Examples:
  margin-bench engines
  margin-bench engines --json`,
    )
    .action(async (flags: { json: boolean }) => {
      // TF.js is loaded only here and by the tfjs engine itself.
      const { AUTO_ORDER, probeBackends } = await import('../engine/tfjs/backends.js');
      const reports = await probeBackends();
      const auto = AUTO_ORDER.find((b) => reports.find((r) => r.name === b)?.status === 'usable') ?? null;
      if (flags.json) {
        process.stdout.write(`${JSON.stringify({ engines: { f64: 'usable', tfjs: reports }, auto }, null, 2)}\n`);
        return;
      }
      const width = Math.max(...reports.map((r) => r.name.length));
      const statusWidth = Math.max(...reports.map((r) => r.status.length));
      const lines = [
        'engine f64: usable (float64 on the CPU, the default)',
        `engine tfjs: float32 on a TF.js backend; --backend auto picks ${auto ?? 'none'}`,
        ...reports.map((r) => `  ${r.name.padEnd(width)}  ${r.status.padEnd(statusWidth)}  ${r.detail}`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
