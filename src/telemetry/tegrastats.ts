import { spawn, type ChildProcess } from 'node:child_process';

/**
 * One line of NVIDIA's `tegrastats`, the only supported way to read the Jetson's GPU load without root or NVML
 * (there is none on Tegra). Its format varies by L4T release, so the parser is by token, tolerant of fields it
 * does not know:
 *
 *   L4T R32:  RAM 2448/31920MB (lfb 7083x4MB) SWAP 0/15960MB (cached 0MB) CPU [1%@1190,off,...] EMC_FREQ 0%
 *             GR3D_FREQ 0% AO@32C GPU@32.5C ... GPU 0/0 CPU 155/155 SOC 1240/1240
 *   L4T R35:  11-25-2023 15:29:01 RAM 3349/31002MB (lfb 5479x4MB) SWAP 0/15501MB (cached 0MB)
 *             CPU [2%@1190,1%@1190,...] EMC_FREQ 0%@2133 GR3D_FREQ 0%@[1377,1377] VIC_FREQ 115 APE 150 AUX@33C
 *             CPU@35C ... CV0@-256C VDD_GPU_SOC 2064mW/2064mW VDD_CPU_CV 412mW/412mW
 *
 * A sensor that is powered off reads -256C and is left out.
 */
export interface TegraStats {
  ramUsedMB: number | null;
  ramTotalMB: number | null;
  /** Per-core load 0..1, null for a core that is off. */
  cpuLoad: (number | null)[];
  /** GPU (GR3D) load 0..1; the mean over the GPCs reported. */
  gpuLoad: number | null;
  emcLoad: number | null;
  /** Temperatures (°C) by sensor name: CPU, GPU, AUX, AO, Tdiode, Tboard, thermal, ... */
  temperaturesC: Record<string, number>;
  /** Power rails (W, instantaneous) by name, e.g. VDD_GPU_SOC, GPU, CPU. */
  powerW: Record<string, number>;
}

export function parseTegrastatsLine(line: string): TegraStats | null {
  const out: TegraStats = { ramUsedMB: null, ramTotalMB: null, cpuLoad: [], gpuLoad: null, emcLoad: null, temperaturesC: {}, powerW: {} };
  const tokens = line.trim().split(/\s+/);
  let recognised = 0;
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    const next = tokens[i + 1];
    if (tok === 'RAM' && next) {
      const m = /^(\d+)\/(\d+)MB$/.exec(next);
      if (m) {
        out.ramUsedMB = Number(m[1]);
        out.ramTotalMB = Number(m[2]);
        recognised++;
        i++;
      }
      continue;
    }
    if (tok === 'CPU' && next?.startsWith('[')) {
      out.cpuLoad = next
        .replace(/^\[|\]$/g, '')
        .split(',')
        .map((c) => {
          const m = /^(\d+(?:\.\d+)?)%/.exec(c);
          return m ? Number(m[1]) / 100 : null;
        });
      recognised++;
      i++;
      continue;
    }
    if ((tok === 'GR3D_FREQ' || tok === 'EMC_FREQ') && next) {
      const m = /^(\d+(?:\.\d+)?)%/.exec(next);
      if (m) {
        // R35 on a two-GPC Xavier prints one load and two frequencies: the load already covers both.
        const load = Number(m[1]) / 100;
        if (tok === 'GR3D_FREQ') out.gpuLoad = load;
        else out.emcLoad = load;
        recognised++;
        i++;
      }
      continue;
    }
    const temp = /^([A-Za-z][\w-]*)@(-?\d+(?:\.\d+)?)C$/.exec(tok);
    if (temp) {
      const t = Number(temp[2]);
      if (t > -200) out.temperaturesC[temp[1]!] = t;
      recognised++;
      continue;
    }
    // Power rails: "VDD_GPU_SOC 2064mW/2064mW" (R35) or "GPU 0/0" (R32, mW).
    if (/^[A-Z][A-Z0-9_]*$/.test(tok) && next) {
      const p = /^(\d+)(?:mW)?\/(\d+)(?:mW)?$/.exec(next);
      if (p) {
        out.powerW[tok] = Number(p[1]) / 1000;
        recognised++;
        i++;
      }
    }
  }
  return recognised > 0 ? out : null;
}

/** The highest GPU-ish temperature, for a one-number status field. */
export function gpuTemperatureC(s: TegraStats): number | null {
  return s.temperaturesC.GPU ?? null;
}

/**
 * Runs `tegrastats --interval ms` and hands each parsed line to onStats. Returns null when the binary is absent (not
 * a Jetson): the status then simply has no GPU fields. The child is unref'd so it never holds the daemon open.
 */
export function startTegrastats(
  onStats: (s: TegraStats) => void,
  opts: { intervalMs?: number; command?: string; onError?: (e: Error) => void } = {},
): { stop: () => void } | null {
  let child: ChildProcess;
  try {
    child = spawn(opts.command ?? 'tegrastats', ['--interval', String(opts.intervalMs ?? 1000)], { stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return null;
  }
  let buf = '';
  child.on('error', (err) => opts.onError?.(err));
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const s = parseTegrastatsLine(line);
      if (s) onStats(s);
    }
    if (buf.length > 64 * 1024) buf = ''; // a line that never ends is not tegrastats
  });
  child.unref();
  (child.stdout as unknown as { unref?: () => void })?.unref?.();
  return { stop: () => void child.kill() };
}
