import { decodeMessage, iterateLog, readerReady } from './mcap-reader.js';
import type { PerceptionGates, VehicleState } from '../core/messages.js';
import type { SceneTrack } from './views.js';

/**
 * A self-contained HTML page about one log (no scripts, no network): the flown path over the track from above
 * (inline SVG, north up), speed over time, detections per second and perception latency per stage. Built from what
 * the log holds; a section whose topics are absent says so instead of drawing nothing.
 */
export interface ReportData {
  file: string;
  path: { tS: number; north: number; east: number; speed: number }[];
  track: SceneTrack | null;
  detectionsPerS: { tS: number; gates: number; framesets: number }[];
  latencyMs: Record<string, number[]>;
}

export async function collectReport(file: string): Promise<ReportData> {
  await readerReady();
  const it = iterateLog(file);
  const path: ReportData['path'] = [];
  const perSecond = new Map<number, { gates: number; framesets: number }>();
  const latencyMs: Record<string, number[]> = {};
  let t0: number | null = null;
  let r = it.next();
  while (!r.done) {
    const m = r.value;
    if (m.topic === 'fc/vehicle_state' || m.topic === 'perception/gates') {
      const msg = decodeMessage(m) as VehicleState | PerceptionGates;
      t0 ??= msg.tUs;
      const tS = (msg.tUs - t0) / 1e6;
      if (m.topic === 'fc/vehicle_state') {
        const v = msg as VehicleState;
        path.push({ tS, north: v.p_ned_m[0], east: v.p_ned_m[1], speed: Math.hypot(...v.v_ned_mps) });
      } else {
        const p = msg as PerceptionGates;
        const s = perSecond.get(Math.floor(tS)) ?? { gates: 0, framesets: 0 };
        s.gates += p.gates.length;
        s.framesets++;
        perSecond.set(Math.floor(tS), s);
        for (const [k, v] of Object.entries(p.timings ?? {})) if (typeof v === 'number') (latencyMs[k] ??= []).push(v);
      }
    }
    r = it.next();
  }
  let track: SceneTrack | null = null;
  try {
    track = r.value.meta?.track ? (JSON.parse(r.value.meta.track) as SceneTrack) : null;
  } catch {
    track = null;
  }
  const detectionsPerS = [...perSecond.entries()].sort((a, b) => a[0] - b[0]).map(([tS, s]) => ({ tS, ...s }));
  return { file, path, track, detectionsPerS, latencyMs };
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

function plot(points: [number, number][], w: number, h: number, color: string, xLabel: string, yLabel: string): string {
  if (points.length < 2) return '<p>(not enough data)</p>';
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(0, ...ys), Math.max(...ys) || 1];
  const px = (x: number) => 40 + ((x - x0) / Math.max(1e-9, x1 - x0)) * (w - 50);
  const py = (y: number) => h - 25 - ((y - y0) / Math.max(1e-9, y1 - y0)) * (h - 35);
  const d = points.map((p, i) => `${i ? 'L' : 'M'}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join('');
  return `<svg width="${w}" height="${h}" xmlns="http://www.w3.org/2000/svg"><path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"/>` +
    `<text x="40" y="${h - 5}" font-size="11">${esc(xLabel)} ${x0.toFixed(1)} … ${x1.toFixed(1)}</text><text x="2" y="12" font-size="11">${esc(yLabel)} max ${y1.toFixed(2)}</text></svg>`;
}

/** Top view, north up, east right, equal scale, the track's gates as bars across their direction of flight. */
function topView(data: ReportData, size = 480): string {
  const pts: [number, number][] = data.path.map((p) => [p.east, p.north]);
  const gates = data.track?.gates ?? [];
  const all = [...pts, ...gates.map((g) => [g.p_ned_m[1], g.p_ned_m[0]] as [number, number])];
  if (all.length === 0) return '<p>(no vehicle states and no track in this log)</p>';
  const minE = Math.min(...all.map((p) => p[0])) - 2;
  const maxE = Math.max(...all.map((p) => p[0])) + 2;
  const minN = Math.min(...all.map((p) => p[1])) - 2;
  const maxN = Math.max(...all.map((p) => p[1])) + 2;
  const scale = (size - 20) / Math.max(maxE - minE, maxN - minN);
  const sx = (e: number) => 10 + (e - minE) * scale;
  const sy = (n: number) => size - 10 - (n - minN) * scale;
  const path = pts.map((p, i) => `${i ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join('');
  const gateSvg = gates.map((g) => {
    const yaw = (g.yaw_deg * Math.PI) / 180;
    const h = g.innerSizeM / 2;
    const [de, dn] = [Math.cos(yaw) * h, -Math.sin(yaw) * h]; // across the flight direction (north, east) = (cos, sin)
    const [e, n] = [g.p_ned_m[1], g.p_ned_m[0]];
    return `<line x1="${sx(e - de)}" y1="${sy(n - dn)}" x2="${sx(e + de)}" y2="${sy(n + dn)}" stroke="#e67e00" stroke-width="4"/><text x="${sx(e) + 4}" y="${sy(n) - 4}" font-size="11">${esc(g.id)}</text>`;
  }).join('');
  return `<svg width="${size}" height="${size}" xmlns="http://www.w3.org/2000/svg" style="border:1px solid #ccc">${gateSvg}<path d="${path}" fill="none" stroke="#1060d0" stroke-width="1.5"/><text x="4" y="14" font-size="11">N ↑ (${(1 / scale).toFixed(2)} m/px)</text></svg>`;
}

export function renderReport(data: ReportData): string {
  const lat = Object.entries(data.latencyMs).map(([k, v]) => {
    const s = [...v].sort((a, b) => a - b);
    const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))]!.toFixed(2);
    return `<tr><td>${esc(k)}</td><td>${s.length}</td><td>${q(0.5)}</td><td>${q(0.95)}</td><td>${s.at(-1)!.toFixed(2)}</td></tr>`;
  }).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>racepilot: ${esc(data.file)}</title>
<style>body{font-family:sans-serif;margin:20px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}</style></head><body>
<h1>${esc(data.file)}</h1>
<h2>Flown path (odometry) over the track, from above</h2>${topView(data)}
<h2>Speed</h2>${plot(data.path.map((p) => [p.tS, p.speed]), 640, 200, '#1060d0', 'time (s)', 'speed (m/s)')}
<h2>Detections per second</h2>${data.detectionsPerS.length ? plot(data.detectionsPerS.map((d) => [d.tS, d.gates]), 640, 200, '#d04010', 'time (s)', 'gates seen per s') : '<p>(no perception/gates in this log)</p>'}
<h2>Latency per stage (ms)</h2>${lat ? `<table><tr><th>stage</th><th>n</th><th>p50</th><th>p95</th><th>max</th></tr>${lat}</table>` : '<p>(no perception timings in this log)</p>'}
</body></html>
`;
}
