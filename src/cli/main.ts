import { RacepilotError } from '../core/errors.js';

/**
 * The `racepilot` command. Each sub-command lives in its own file and is imported only when used, so `racepilot
 * tail` does not load ONNX Runtime. A command returns its exit code; errors of ours print one clear line.
 */
export type CommandRun = (argv: string[]) => Promise<number>;

interface CommandEntry {
  summary: string;
  load: () => Promise<{ run: CommandRun }>;
}

const commands: Record<string, CommandEntry> = {
  'sim-fc': { summary: 'run the simulated PX4 flight controller on UDP (as PX4 SITL: 127.0.0.1:14580 → 14540)', load: () => import('./sim-fc.js') },
  'fly-demo': { summary: 'fly the simulated flight controller through a few setpoints and print what happened', load: () => import('./fly-demo.js') },
  run: { summary: 'the daemon: connect to the flight controller, stream setpoints when allowed', load: () => import('./run.js') },
  sim: { summary: 'fly the whole race in simulated time (simulated PX4, perception, gate map, planner) and summarise it', load: () => import('./sim.js') },
  'log-info': { summary: 'summarise an MCAP flight log: channels, counts, span, how much is intact and how it ended', load: () => import('./log-info.js') },
  replay: { summary: 'replay a flight log through the pipeline and compare with what was recorded', load: () => import('./replay.js') },
  'tlog-info': { summary: 'summarise a .tlog or raw MAVLink capture', load: () => import('./tlog-info.js') },
  bench: { summary: 'benchmarks: link, camera, perception, planning, record (medians and percentiles)', load: () => import('./bench.js') },
  dataset: { summary: 'render a gate training set (images, frame masks, corners.csv) like ../shared/data/gates/airr-onboard', load: () => import('./dataset.js') },
  tail: { summary: "follow a daemon's live telemetry: status line and events (JSON lines when piped)", load: () => import('./tail.js') },
  eval: { summary: 'gate detector accuracy (AlphaPilot AP, polygon IoU) on labelled images', load: () => import('./eval.js') },
};

export function usage(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `usage: racepilot <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nracepilot <command> --help for a command's options.\n`;
}

export async function main(argv: string[]): Promise<number> {
  // A reader that goes away (`racepilot tail ... | head`) is the end of the output, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(0);
    throw err;
  });
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 64;
  }
  const entry = commands[name];
  if (!entry) {
    process.stderr.write(`racepilot: unknown command "${name}"\n\n${usage()}`);
    return 64;
  }
  try {
    const mod = await entry.load();
    return await mod.run(rest);
  } catch (err) {
    if (err instanceof RacepilotError) {
      process.stderr.write(`racepilot ${name}: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`racepilot ${name}: unexpected error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 70;
  }
}
