import type { BenchPerceptionResult, RunFigures } from './bench-perception.js';
import type { Stall } from './stall-watch.js';

/**
 * The picture of a `racepilot bench perception` run (SVG: text and lines, opened by any browser): one panel per
 * model and run. Above, every FrameSet's end-to-end latency at the moment it came out, against the 30 ms target;
 * below, every event-loop stall over 5 ms at its moment, as tall as it lasted, coloured by what it was: the
 * process's own (perception's or the recorder's holds, a garbage collection, blocked in the kernel) in warm colours,
 * the machine's (on the loop without a hold, waiting for a CPU, a late timer) in cold ones. A row of numbers cannot
 * show whether stalls come in bursts, with the latency tail, or evenly; this can.
 */

const W = 1200;
const LEFT = 70;
const RIGHT = 20;
const PANEL = 250;
const LAT_H = 130;
const STALL_H = 60;
const TARGET_MS = 30;

/** Fill colour of a stall, by whose it was (Stall.caused) and what the main thread did (its cause). */
export function stallColour(s: Stall): string {
  if (s.caused) {
    if (s.cause === 'blocked') return '#7b1fa2';
    return s.gcMs > s.holdMs ? '#ef6c00' : '#d32f2f';
  }
  return { onLoop: '#546e7a', waitingForCpu: '#1e88e5', blocked: '#7b1fa2', timerLate: '#90caf9' }[s.cause];
}

const LEGEND: [string, string][] = [
  ['#d32f2f', 'caused: perception / recorder hold'], ['#ef6c00', 'caused: garbage collection'], ['#7b1fa2', 'caused: blocked in the kernel'],
  ['#546e7a', 'on the loop, no hold'], ['#1e88e5', 'waiting for a CPU'], ['#90caf9', 'timer late (machine)'],
];

const stalls = (n: number) => `${n} stall${n === 1 ? '' : 's'}`;
const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f1 = (v: number) => (Math.round(v * 10) / 10).toString();

function panel(out: string[], y0: number, title: string, r: RunFigures): void {
  const { trace } = r;
  const x = (ms: number) => LEFT + (Math.max(0, Math.min(ms, trace.seconds * 1000)) / (trace.seconds * 1000)) * (W - LEFT - RIGHT);
  const top = Math.max(2 * TARGET_MS, Math.ceil((Math.max(0, ...trace.endToEndMs) * 1.1) / 10) * 10);
  const latY = (ms: number) => y0 + 30 + LAT_H - (Math.min(ms, top) / top) * LAT_H;
  out.push(`<text x="${LEFT}" y="${y0 + 18}" font-size="14" font-weight="bold">${esc(title)}</text>`);
  // Latency: axis, grid at every 10 ms, the target.
  out.push(`<rect x="${LEFT}" y="${y0 + 30}" width="${W - LEFT - RIGHT}" height="${LAT_H}" fill="#fafafa" stroke="#bbb"/>`);
  for (let v = 0; v <= top; v += top > 100 ? 50 : 10) {
    out.push(`<text x="${LEFT - 6}" y="${latY(v) + 4}" font-size="10" text-anchor="end">${v}</text>`);
  }
  out.push(`<text x="14" y="${y0 + 30 + LAT_H / 2}" font-size="11" transform="rotate(-90 14 ${y0 + 30 + LAT_H / 2})" text-anchor="middle">end to end, ms</text>`);
  out.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${latY(TARGET_MS)}" y2="${latY(TARGET_MS)}" stroke="#d32f2f" stroke-dasharray="6 4"/>`);
  out.push(`<text x="${W - RIGHT - 4}" y="${latY(TARGET_MS) - 4}" font-size="10" fill="#d32f2f" text-anchor="end">target p99 ${TARGET_MS} ms</text>`);
  out.push('<g fill="#37474f">');
  trace.doneMs.forEach((t, i) => out.push(`<circle cx="${x(t).toFixed(1)}" cy="${latY(trace.endToEndMs[i]!).toFixed(1)}" r="1.6"/>`));
  out.push('</g>');
  // Stalls: a bar per stall from the axis down, as long as the stall (the scale tops at 30 ms).
  const sy = y0 + 30 + LAT_H + 12;
  out.push(`<rect x="${LEFT}" y="${sy}" width="${W - LEFT - RIGHT}" height="${STALL_H}" fill="#fff" stroke="#bbb"/>`);
  out.push(`<text x="${LEFT - 6}" y="${sy + 10}" font-size="10" text-anchor="end">stalls</text>`);
  out.push(`<text x="${LEFT - 6}" y="${sy + STALL_H}" font-size="10" text-anchor="end">30 ms</text>`);
  for (const s of r.stalls.all ?? []) {
    const at = s.endMs - s.ms - trace.startMs;
    const h = (Math.min(s.ms, 30) / 30) * STALL_H;
    out.push(`<rect class="stall${s.caused ? ' caused' : ''}" x="${x(at).toFixed(1)}" y="${sy}" width="3" height="${h.toFixed(1)}" fill="${stallColour(s)}"><title>${f1(s.ms)} ms, ${s.cause}${s.caused ? ', caused' : ''}</title></rect>`);
  }
  out.push(`<text x="${W - RIGHT}" y="${sy + STALL_H + 14}" font-size="10" text-anchor="end">${f1(trace.seconds)} s</text>`);
  out.push(`<text x="${LEFT}" y="${sy + STALL_H + 14}" font-size="10">0 s</text>`);
}

/** The SVG document for a bench result (its runs' traces and stall lists: not those read back from --json). */
export function perceptionPicture(res: BenchPerceptionResult): string {
  const runs = res.models.flatMap((m) => [[m, 'saturated', m.saturated], [m, `paced ${m.paced.rateHz} Hz`, m.paced]] as const);
  const H = 70 + runs.length * PANEL;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${LEFT}" y="22" font-size="16" font-weight="bold">${esc(`racepilot bench perception: ${res.images} images ${res.width}x${res.height} per FrameSet, ${res.lanes} lane${res.lanes > 1 ? 's' : ''}; idle loop: ${stalls(res.idleEventLoop.stalls.count)} > 5 ms in ${res.idleEventLoop.stalls.seconds} s`)}</text>`,
  ];
  LEGEND.forEach(([c, label], i) => {
    const lx = LEFT + (i % 3) * 330;
    const ly = 38 + Math.floor(i / 3) * 16;
    out.push(`<rect x="${lx}" y="${ly}" width="10" height="10" fill="${c}"/><text x="${lx + 14}" y="${ly + 9}" font-size="11">${esc(label)}</text>`);
  });
  runs.forEach(([m, name, r], k) => {
    const l = r.latencyMs.endToEndMs;
    panel(out, 70 + k * PANEL, `${m.variant} · ${name}: ${r.framesetsPerS} FrameSets/s, end to end p50 ${l.p50} / p99 ${l.p99} ms; ` +
      `${stalls(r.stalls.count)} > 5 ms, ${r.stalls.caused} caused`, r);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
