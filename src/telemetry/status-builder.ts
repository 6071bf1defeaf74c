import type { TelemetryEvent, TelemetryStatus } from './protocol.js';

/**
 * Builds the telemetry status from bus messages. Pure: it is fed (topic, message) pairs and asked for a snapshot at
 * a time; the server owns the sockets and timers. It subscribes by topic name and reads fields defensively, so
 * topics that do not exist yet (race state, detections) simply leave their fields null, and new topics that follow
 * the message conventions (tUs/tSampleUs) show up in the latency table without changes here.
 */
export class StatusBuilder {
  private fc: TelemetryStatus['fc'] = { linkUp: null, mode: null, armed: null, autopilot: null, batteryV: null, batteryRemaining: null };
  private control: string | null = null;
  private race: TelemetryStatus['race'] = { state: null, gateIndex: null, gateCount: null };
  private speedMps: number | null = null;
  private altitudeM: number | null = null;
  private detectionTimesUs: number[] = [];
  private sawDetections = false;
  private latencyEmaMs = new Map<string, number>();
  private cameraFps: Record<string, number> = {};
  private link: TelemetryStatus['link'] = null;
  private system: TelemetryStatus['system'] = { cpuLoad: null, gpuLoad: null, temperaturesC: {} };

  /** Feeds one bus message; returns an event to stream when the message is one. Never throws on odd input. */
  observe(topic: string, msg: unknown): TelemetryEvent | null {
    if (typeof msg !== 'object' || msg === null) return null;
    const m = msg as Record<string, unknown>;
    this.trackLatency(topic, m);
    switch (topic) {
      case 'fc/status':
        this.fc = {
          linkUp: bool(m.linkUp),
          mode: str(m.mode),
          armed: bool(m.armed),
          autopilot: str(m.autopilot),
          batteryV: num(m.batteryV),
          batteryRemaining: num(m.batteryRemaining),
        };
        return null;
      case 'fc/vehicle_state': {
        const v = vec3(m.v_ned_mps);
        const p = vec3(m.p_ned_m);
        if (v) this.speedMps = Math.hypot(v[0], v[1], v[2]);
        if (p) this.altitudeM = -p[2];
        return null;
      }
      case 'fc/link_stats':
        this.link = { packetsIn: num(m.packetsIn) ?? 0, badCrc: num(m.badCrc) ?? 0 };
        return null;
      case 'camera/stream_stats': {
        const stream = str(m.stream);
        const fps = num(m.fps);
        if (stream && fps !== null) this.cameraFps[stream] = round(fps, 1);
        return null;
      }
      case 'fc/event': {
        if (m.kind === 'control_state' && typeof m.state === 'string') this.control = m.state;
        return toEvent(topic, m);
      }
    }
    if (topic === 'race/event') {
      // RaceEvent: phase changes read "<phase>: <why>"; gate events carry the track index of the gate.
      const message = str(m.message);
      if (m.kind === 'phase' && message) this.race.state = message.split(':')[0]!.trim();
      const gate = num(m.gateIndex);
      if ((m.kind === 'gate_passed' || m.kind === 'gate_missed') && gate !== null) this.race.gateIndex = gate + 1;
      return toEvent(topic, m);
    }
    if (topic.startsWith('race/')) {
      // A race state topic, should one appear: the same field names as the race logic's state.
      const state = str(m.phase) ?? str(m.state);
      const gate = num(m.targetGate) ?? num(m.gateIndex);
      const count = num(m.gateCount);
      if (state !== null) this.race.state = state;
      if (gate !== null) this.race.gateIndex = gate;
      if (count !== null) this.race.gateCount = count;
      return topic.endsWith('/event') || topic.endsWith('/events') ? toEvent(topic, m) : null;
    }
    if (topic === 'perception/gates' || topic.includes('detections')) {
      const t = num(m.tUs);
      if (t !== null) {
        this.sawDetections = true;
        this.detectionTimesUs.push(t);
      }
      // Per-stage timings of the detector, when the message carries them (PerceptionTimings).
      if (typeof m.timings === 'object' && m.timings !== null) {
        for (const [k, v] of Object.entries(m.timings as Record<string, unknown>)) {
          if (typeof v === 'number' && Number.isFinite(v)) this.ema(`perception.${k.replace(/Ms$/, '')}`, v);
        }
      }
      return null;
    }
    if (topic.endsWith('/event') || topic.endsWith('/events')) return toEvent(topic, m);
    return null;
  }

  setSystem(system: Partial<TelemetryStatus['system']>): void {
    this.system = { ...this.system, ...system };
  }

  snapshot(tUs: number, telemetry: TelemetryStatus['telemetry']): TelemetryStatus {
    // Detections per second over the last second of message time.
    const cutoff = tUs - 1_000_000;
    let i = 0;
    while (i < this.detectionTimesUs.length && this.detectionTimesUs[i]! < cutoff) i++;
    if (i > 0) this.detectionTimesUs.splice(0, i);
    const latencyMs: Record<string, number> = {};
    for (const [k, v] of this.latencyEmaMs) latencyMs[k] = round(v, 2);
    return {
      tUs,
      fc: { ...this.fc },
      control: this.control,
      race: { ...this.race },
      speedMps: this.speedMps === null ? null : round(this.speedMps, 2),
      altitudeM: this.altitudeM === null ? null : round(this.altitudeM, 2),
      detectionsPerS: this.sawDetections ? this.detectionTimesUs.length : null,
      latencyMs,
      cameraFps: { ...this.cameraFps },
      link: this.link ? { ...this.link } : null,
      system: { ...this.system, temperaturesC: { ...this.system.temperaturesC } },
      telemetry,
    };
  }

  private trackLatency(topic: string, m: Record<string, unknown>): void {
    const t = num(m.tUs);
    const ts = num(m.tSampleUs);
    if (t === null || ts === null || t < ts) return;
    this.ema(topic, (t - ts) / 1000);
  }

  private ema(key: string, ms: number): void {
    const prev = this.latencyEmaMs.get(key);
    // A short exponential mean: steady enough to read at 10 Hz, quick enough to show a stall.
    this.latencyEmaMs.set(key, prev === undefined ? ms : prev + 0.2 * (ms - prev));
  }
}

function toEvent(topic: string, m: Record<string, unknown>): TelemetryEvent {
  const sev = m.severity;
  return {
    tUs: num(m.tUs) ?? 0,
    topic,
    severity: sev === 'debug' || sev === 'info' || sev === 'warning' || sev === 'error' ? sev : 'info',
    // Bounded: an event is a sentence, and a huge one must not become a huge frame for every client.
    message: (str(m.message) ?? str(m.reason) ?? JSON.stringify(m)).slice(0, 1000),
    ...(typeof m.kind === 'string' ? { kind: m.kind } : {}),
  };
}

function num(x: unknown): number | null {
  return typeof x === 'number' && Number.isFinite(x) ? x : null;
}
function str(x: unknown): string | null {
  return typeof x === 'string' ? x : null;
}
function bool(x: unknown): boolean | null {
  return typeof x === 'boolean' ? x : null;
}
function vec3(x: unknown): [number, number, number] | null {
  return Array.isArray(x) && x.length === 3 && x.every((v) => typeof v === 'number') ? (x as [number, number, number]) : null;
}
function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
