import { parseCommandArgs, expectPositionals } from './args.js';
import { UsageError } from '../core/errors.js';
import { readCaptureFile, type CaptureFormat } from '../recording/tlog.js';
import { summarizeCapture, type CaptureSummary } from '../recording/tlog-summary.js';

const USAGE = `usage: racepilot tlog-info FILE [--json] [--format auto|tlog|raw]

Summarises a MAVLink capture: a .tlog (8-byte timestamp + packet records) or a bare MAVLink byte stream, detected
from the bytes. Prints the time span, packets per message, the autopilots and flight modes seen, and the bytes that
were not packets or failed their CRC.

  --json            one JSON object on stdout
  --format FORMAT   force the framing instead of detecting it
  -h, --help        this text
`;

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(argv, { json: { type: 'boolean', default: false }, format: { type: 'string', default: 'auto' } }, USAGE, true);
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  expectPositionals(positionals, 1, 'FILE', USAGE);
  const format = values.format as string;
  if (format !== 'auto' && format !== 'tlog' && format !== 'raw') {
    throw new UsageError(`--format must be auto, tlog or raw, not "${format}"`);
  }
  const file = positionals[0]!;
  const summary = summarizeCapture(readCaptureFile(file, format as CaptureFormat | 'auto'));
  process.stdout.write(values.json ? `${JSON.stringify({ file, ...summary })}\n` : formatSummary(file, summary));
  return 0;
}

const num = (n: number) => n.toLocaleString('en-US');

export function formatSummary(file: string, s: CaptureSummary): string {
  const st = s.stats;
  const lines: string[] = [];
  lines.push(`${file}: ${s.format === 'tlog' ? 'tlog (timestamped records)' : 'raw MAVLink stream'}, ${num(st.bytes)} bytes`);
  if (s.durationS !== null) {
    const start = st.firstTimeUs !== null ? `, from ${new Date(st.firstTimeUs / 1000).toISOString()}` : '';
    lines.push(`duration: ${s.durationS.toFixed(1)} s (${s.durationSource}${start})`);
  } else {
    lines.push('duration: unknown (no timestamps and no autopilot boot time)');
  }
  lines.push(`packets: ${num(st.packets)} (v1 ${num(s.versions.v1)}, v2 ${num(s.versions.v2)}), ${num(st.packetBytes)} bytes`);
  const bad = [
    `${num(st.junkBytes)} bytes not in packets`,
    `${num(st.badCrc)} bad CRC`,
    `${num(st.unknownIds)} unknown ids`,
  ];
  if (s.format === 'tlog') bad.push(`${num(st.badTimestamps)} garbage timestamps`, `${num(st.timestampsBackwards)} going backwards`);
  lines.push(`rejected: ${bad.join(', ')}`);
  if (s.autopilots.length === 0) lines.push('autopilots: none (no autopilot heartbeat)');
  else {
    lines.push('autopilots:');
    for (const a of s.autopilots) {
      lines.push(
        `  system ${a.systemId} component ${a.componentId}: ${a.autopilot} (MAV_AUTOPILOT ${a.autopilotId}), ${a.vehicleType}, ` +
          `${num(a.heartbeats)} heartbeats, ${a.armedSeen ? 'armed at times' : 'never armed'}`,
      );
      lines.push(`    modes: ${a.modes.join(', ')}; mode changes: ${a.modeChanges}`);
    }
  }
  if (s.messages.length > 0) {
    lines.push('messages:');
    const width = Math.max(...s.messages.map((m) => m.name.length));
    for (const m of s.messages) lines.push(`  ${m.name.padEnd(width)}  ${num(m.count).padStart(7)}`);
  }
  return `${lines.join('\n')}\n`;
}
