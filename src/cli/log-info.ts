import { parseArgs } from 'node:util';
import { UsageError } from '../core/errors.js';
import { LOG_VERSION } from '../recording/mcap-writer.js';
import { readLogInfo, type LogInfo } from '../recording/mcap-reader.js';

const USAGE = `usage: racepilot log-info LOG [--json]

Summarises an MCAP flight log: its channels with message counts and schemas, the time span, how much of the file
is intact and how it ended (a clean footer; truncated, as after a power loss or kill -9; corrupt at an offset).
A log cut short is read up to its last complete chunk.

  --json      one JSON object on stdout
  -h, --help  this text
`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } } });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${USAGE}`);
  }
  if (parsed.values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (parsed.positionals.length !== 1) throw new UsageError(`expected one LOG, got ${parsed.positionals.length}\n\n${USAGE}`);
  const info = await readLogInfo(parsed.positionals[0]!);
  process.stdout.write(parsed.values.json ? `${JSON.stringify(logInfoJson(info))}\n` : formatLogInfo(info));
  // A damaged log is still a log: exit 0 when anything was readable, so scripts can go on with what is there.
  return 0;
}

export function logInfoJson(info: LogInfo) {
  const span = info.startNs !== null && info.endNs !== null ? Number(info.endNs - info.startNs) / 1e9 : 0;
  return {
    file: info.file,
    profile: info.header?.profile ?? null,
    library: info.header?.library ?? null,
    racepilotLog: info.ours,
    logVersion: info.logVersion,
    compatible: info.ours && info.logVersion !== null && info.logVersion <= LOG_VERSION,
    fileBytes: info.fileBytes,
    intactBytes: info.intactBytes,
    intactFraction: info.fileBytes ? info.intactBytes / info.fileBytes : 0,
    ending: info.ending,
    startUnixS: info.startNs === null ? null : Number(info.startNs) / 1e9,
    durationS: span,
    messages: info.messages,
    chunks: info.chunks,
    channels: info.channels.map((c) => ({ topic: c.topic, schema: c.schemaName, encoding: c.messageEncoding, count: c.count })),
  };
}

export function formatLogInfo(info: LogInfo): string {
  const j = logInfoJson(info);
  const ending =
    info.ending.kind === 'clean'
      ? 'clean (summary and footer present)'
      : info.ending.kind === 'truncated'
        ? `truncated after byte ${info.ending.atOffset} (no footer: power loss, kill -9 or still being written)`
        : `corrupt at byte ${info.ending.atOffset}: ${info.ending.message}`;
  const kind = info.ours
    ? `racepilot log v${info.logVersion}${j.compatible ? '' : ` (newer than this racepilot reads, v${LOG_VERSION})`}`
    : `foreign MCAP (profile ${JSON.stringify(j.profile)}, library ${JSON.stringify(j.library)}): not a racepilot log`;
  const width = Math.max(5, ...info.channels.map((c) => c.topic.length));
  const lines = [
    `${info.file}`,
    `  kind      ${kind}`,
    `  ended     ${ending}`,
    `  intact    ${(j.intactFraction * 100).toFixed(1)}% (${j.intactBytes} of ${j.fileBytes} bytes, ${info.chunks} chunks)`,
    `  span      ${j.durationS.toFixed(3)} s${j.startUnixS !== null && j.startUnixS > 1e9 ? ` from ${new Date(j.startUnixS * 1000).toISOString()}` : ''}`,
    `  messages  ${info.messages}`,
    '',
    `  ${'topic'.padEnd(width)}  ${'count'.padStart(8)}  schema`,
    ...info.channels.map((c) => `  ${c.topic.padEnd(width)}  ${String(c.count).padStart(8)}  ${c.schemaName || '(none)'}`),
  ];
  return `${lines.join('\n')}\n`;
}
