import type { TelemetryEvent, TelemetryStatus } from './protocol.js';

/** One terminal line summarising a status; unknown fields show as "-". Pure, for `racepilot tail` and its tests. */
export function formatStatusLine(s: TelemetryStatus): string {
  const parts: string[] = [];
  const fc = s.fc;
  parts.push(fc.linkUp === false ? 'FC LINK DOWN' : `${fc.mode ?? '-'} ${fc.armed === null ? '-' : fc.armed ? 'ARMED' : 'disarmed'}`);
  if (s.control) parts.push(s.control);
  if (s.race.state !== null || s.race.gateIndex !== null) {
    const gate = s.race.gateIndex === null ? '-' : `${s.race.gateIndex}${s.race.gateCount !== null ? `/${s.race.gateCount}` : ''}`;
    parts.push(`race ${s.race.state ?? '-'} gate ${gate}`);
  }
  parts.push(`${fmt(s.speedMps, 1)} m/s`);
  parts.push(`alt ${fmt(s.altitudeM, 1)} m`);
  if (s.detectionsPerS !== null) parts.push(`det ${s.detectionsPerS}/s`);
  const lat = Object.entries(s.latencyMs)
    .map(([topic, ms]) => `${topic.split('/').pop()} ${ms.toFixed(0)}ms`)
    .join(' ');
  if (lat) parts.push(`lat ${lat}`);
  const sys = s.system;
  const temps = Object.values(sys.temperaturesC);
  parts.push(
    `cpu ${pct(sys.cpuLoad)}` +
      (sys.gpuLoad !== null ? ` gpu ${pct(sys.gpuLoad)}` : '') +
      (temps.length ? ` ${Math.max(...temps).toFixed(0)}°C` : ''),
  );
  if (fc.batteryV !== null) parts.push(`${fc.batteryV.toFixed(1)} V`);
  return parts.join('  ');
}

export function formatEvent(e: TelemetryEvent): string {
  const sev = e.severity === 'error' ? 'ERR ' : e.severity === 'warning' ? 'WARN' : e.severity === 'debug' ? 'dbg ' : 'info';
  return `${(e.tUs / 1e6).toFixed(3).padStart(10)}  ${sev}  ${e.topic}${e.kind ? `/${e.kind}` : ''}: ${e.message}`;
}

/** A pino JSON line as one readable line. */
export function formatLogLine(line: Record<string, unknown>): string {
  const levels: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
  const level = typeof line.level === 'number' ? (levels[line.level] ?? String(line.level)) : 'log';
  const msg = typeof line.msg === 'string' ? line.msg : JSON.stringify(line);
  return `${''.padStart(10)}  ${level.padEnd(4)}  log: ${msg}`;
}

function fmt(x: number | null, digits: number): string {
  return x === null ? '-' : x.toFixed(digits);
}
function pct(x: number | null): string {
  return x === null ? '-' : `${Math.round(x * 100)}%`;
}
