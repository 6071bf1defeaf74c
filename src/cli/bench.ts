import { UsageError } from '../core/errors.js';
import type { CommandRun } from './main.js';

/**
 * `racepilot bench <name> [options]`: benchmarks are commands anyone can rerun (timings never live in tests).
 * Each sub-benchmark is its own file exporting `run(argv)`, loaded only when named; add a line here to add one.
 */
const BENCHES: Record<string, { summary: string; load: () => Promise<{ run: CommandRun }> }> = {
  link: { summary: 'setpoint cadence at 50 Hz over UDP loopback with both cores busy', load: () => import('./bench-link.js') },
  camera: { summary: 'camera ingest frame rate and event-loop cost', load: () => import('./bench-camera.js') },
  perception: { summary: 'detector FrameSets/s, latency per stage, event-loop stalls (pruned vs dense)', load: () => import('./bench-perception-cli.js') },
  planning: { summary: 'planning time per call and the ideal lap on the AlphaPilot-like course', load: () => import('./bench-planning.js') },
  record: { summary: 'CPU cost of recording the flight topics to MCAP', load: () => import('./bench-record.js') },
};

function usage(): string {
  const lines = Object.entries(BENCHES).map(([n, b]) => `  ${n.padEnd(12)} ${b.summary}`);
  return `usage: racepilot bench <name> [--json] [options]\n\nbenchmarks:\n${lines.join('\n')}\n\nracepilot bench <name> --help for its options.\n`;
}

export async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name ? 0 : 64;
  }
  const bench = BENCHES[name];
  if (!bench) throw new UsageError(`unknown benchmark "${name}"\n\n${usage()}`);
  return (await bench.load()).run(rest);
}
