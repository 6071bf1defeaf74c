import type { Vec3 } from '../core/messages.js';
import { newPlanMemory, planThroughGates, segmentFeasible, type PlanGate, type PlanMemory, type PlannerParams, type PlanResult, type PlanStart } from './planner.js';
import { position, quintic, velocity } from './quintic.js';
import { sampleTrajectory, trajectoryEndUs, type Segment } from './trajectory.js';

export interface ReplanParams {
  /** Replan at most this often while nothing changes (µs): new gate estimates trigger a replan at once. */
  periodUs: number;
  /** In the last moments before a gate the plan is committed: no replan with less time than this left (µs). */
  commitUs: number;
  /** A gate estimate that moved more than this (m) counts as changed. */
  gateMoveM: number;
  /** A vehicle further than this from the plan (m) replans from where it is, not from where the plan says. */
  deviationM: number;
  /**
   * How far a plan may aim from a moved gate's centre and still be flown when it cannot be bent onto the new
   * estimate (m): across the gate's face, and along its normal. See `update`.
   */
  aimToleranceM: { across: number; along: number };
}

export const defaultReplanParams: ReplanParams = {
  periodUs: 100_000, commitUs: 250_000, gateMoveM: 0.05, deviationM: 1.0, aimToleranceM: { across: 0.2, along: 0.5 },
};

export interface ReplanOutcome {
  plan: PlanResult | null;
  /** Whether `plan` is new this call. */
  replanned: boolean;
  /** Whether the planner ran (it may run and keep the old plan when that is faster). */
  planned: boolean;
  /** Why there is no plan, when there is none. */
  problem: string | null;
}

/**
 * When to replan and which plan to keep. Replanning every few tens of milliseconds from the point the current plan
 * has reached used to make the lap slower than planning once per gate: each fresh search re-picked gate speeds on a
 * coarse grid from a mid-segment state, and a quintic through a gate whose chosen speed jumps to another grid
 * value is a different, often looping curve; the sum of these greedy switches lengthened the path (150 m instead of
 * 113 m on the AlphaPilot-like course). The remedy: the current plan's remainder is always a candidate, and a new
 * plan replaces it only when it reaches the same gates sooner, or when the gates changed so the old one is wrong.
 */
export class Replanner {
  plan: PlanResult | null = null;
  readonly memory: PlanMemory = newPlanMemory();
  private gatesKey: PlanGate[] = [];
  private lastPlanUs = -Infinity;

  constructor(
    private readonly params: PlannerParams,
    private readonly replan: ReplanParams = defaultReplanParams,
  ) {}

  /** Drops the plan (after a hold, a failsafe): the next update plans from the vehicle. */
  reset(): void {
    this.plan = null;
    this.gatesKey = [];
    this.memory.speedsByGate.clear();
  }

  update(tUs: number, vehicle: PlanStart, gates: PlanGate[], exitTurnRad = 0, passed?: PlanGate): ReplanOutcome {
    const changed = this.gatesChanged(gates);
    const plan = this.plan;
    const remainingUs = plan ? trajectoryEndUs(plan.trajectory) - tUs : 0;
    const firstEndUs = plan ? plan.trajectory.segments[0]!.t0Us + plan.trajectory.segments[0]!.durationS * 1e6 : 0;
    const sameGates = plan !== null && remainingUs > 0 && sameIndices(this.gatesKey, gates);
    const sameFirstGate = plan !== null && remainingUs > 0 && this.gatesKey[0]?.index === gates[0]?.index;
    const committed = sameFirstGate && firstEndUs - tUs < this.replan.commitUs;
    const due = tUs - this.lastPlanUs >= this.replan.periodUs;
    if (plan && sameGates) {
      if (changed) {
        // Gate estimates moved: bend the current plan onto them with the same timing and gate speeds. A fresh
        // search here would re-pick speeds on a coarse grid from a mid-segment state and could switch to a
        // different, sometimes looping, curve at every new sighting.
        const bent = this.refit(plan, tUs, gates, passed);
        if (bent) {
          this.adopt(bent, gates);
          return { plan: bent, replanned: true, planned: true, problem: null };
        }
        // Too close to bend (a time-optimal plan sits on the limits): a plan that still goes through every moved
        // gate within a hand's breadth of its new centre is flown on. A fresh search would have to hit the new
        // centre exactly, and from a few metres out at speed only a slow loop does (racepilot sim seed 5: a
        // 7 cm move of G4, 4 m ahead, turned 0.5 s at 8.6 m/s into 2.5 s through the gate at 2 m/s). Measured
        // against where the plan's segments really end, so estimates creeping a little at a time add up.
        if (this.aimsWithin(plan, gates)) return { plan, replanned: false, planned: false, problem: null };
      } else if (committed || !due) return { plan, replanned: false, planned: false, problem: null };
      if (committed) return { plan, replanned: false, planned: false, problem: null };
    }
    let start = vehicle;
    if (plan && remainingUs > 0) {
      const s = sampleTrajectory(plan.trajectory, tUs)!;
      if (dist(s.p_ned_m, vehicle.p_ned_m) < this.replan.deviationM) start = { tUs, p_ned_m: s.p_ned_m, v_ned_mps: s.v_ned_mps, a_ned_mps2: s.a_ned_mps2 };
    }
    this.lastPlanUs = tUs;
    const fresh = planThroughGates(start, gates, this.params, exitTurnRad, this.memory, passed);
    if (!fresh) {
      // Keep flying the old plan while it still leads to this gate (it planned through it as its next-but-one):
      // the next replan starts from a better place.
      const stillLeads = plan !== null && plan.trajectory.segments.some((seg) => seg.gateIndex === gates[0]?.index && seg.t0Us + seg.durationS * 1e6 > tUs);
      if (plan && stillLeads) return { plan, replanned: false, planned: true, problem: null };
      this.plan = null;
      this.gatesKey = gates.map(copyGate);
      return { plan: null, replanned: false, planned: true, problem: `no flyable trajectory through gate ${gates[0] ? gates[0].index + 1 : '?'} within the vehicle's limits` };
    }
    if (plan && sameGates && !changed && fresh.durationS * 1e6 >= remainingUs - 10_000) {
      // The current plan is as fast: keep it, and keep its gate speeds as the warm start. Not when the gates moved:
      // the old plan then aims at where a gate was thought to be, and is often faster precisely because it takes
      // the straight line past the gate's real place.
      // The key stays the gates the plan was made for: moves under gateMoveM then add up until the plan is bent,
      // instead of each small move being forgotten while the plan aims where the gates first were.
      plan.gateSpeedsMps.forEach((v, k) => this.memory.speedsByGate.set(gates[k]!.index, v));
      return { plan, replanned: false, planned: true, problem: null };
    }
    this.adopt(fresh, gates);
    return { plan: fresh, replanned: true, planned: true, problem: null };
  }

  private adopt(plan: PlanResult, gates: PlanGate[]): void {
    this.plan = plan;
    this.gatesKey = gates.map(copyGate);
  }

  /**
   * The plan's remaining segments re-solved to the moved gates with the same gate speeds and the same timing, or,
   * since a time-optimal plan sits on the limits and a moved gate pushes it over, the timing stretched a little;
   * null when even that is infeasible.
   */
  private refit(plan: PlanResult, tUs: number, gates: PlanGate[], passed?: PlanGate): PlanResult | null {
    for (const stretch of [1, 1.05, 1.1, 1.2, 1.35]) {
      const bent = this.refitWith(plan, tUs, gates, stretch, passed);
      if (bent) return bent;
    }
    return null;
  }

  private refitWith(plan: PlanResult, tUs: number, gates: PlanGate[], stretch: number, passed?: PlanGate): PlanResult | null {
    const segs = plan.trajectory.segments;
    const s = sampleTrajectory(plan.trajectory, tUs)!;
    let from = { p: s.p_ned_m, v: s.v_ned_mps, a: s.a_ned_mps2 };
    let t0 = tUs;
    let tOld = tUs;
    const out: Segment[] = [];
    let total = 0;
    for (let k = 0; k < segs.length; k++) {
      const seg = segs[k]!;
      const g = gates[k]!;
      const endUs = seg.t0Us + seg.durationS * 1e6;
      const T = ((endUs - tOld) / 1e6) * stretch;
      tOld = endUs;
      if (T < 0.02) return null;
      const speed = plan.gateSpeedsMps[k]!;
      const to = { p: g.p_ned_m, v: [g.n_ned[0] * speed, g.n_ned[1] * speed, g.n_ned[2] * speed] as Vec3, a: [0, 0, 0] as Vec3 };
      const axes = [0, 1, 2].map((i) => quintic({ p: from.p[i]!, v: from.v[i]!, a: from.a[i]! }, { p: to.p[i]!, v: to.v[i]!, a: 0 }, T)) as Segment['axes'];
      if (!segmentFeasible(axes, T, this.params, { target: g, previous: k === 0 ? passed : gates[k - 1] })) return null;
      out.push({ t0Us: t0, durationS: T, axes, gateIndex: g.index });
      total += T;
      t0 += Math.round(T * 1e6);
      from = to;
    }
    return { trajectory: { tUs, segments: out }, durationS: total, gateSpeedsMps: [...plan.gateSpeedsMps], evaluations: segs.length };
  }

  /**
   * Whether each of the plan's gate segments ends within the aim tolerance of the same gate's current estimate:
   * measured against where the segment really ends and the direction it crosses in (its end state), not against
   * the gates the replanner last noted, which may have crept away from the plan a few centimetres at a time.
   */
  private aimsWithin(plan: PlanResult, gates: PlanGate[]): boolean {
    const tol = this.replan.aimToleranceM;
    return plan.trajectory.segments.every((seg, k) => {
      const g = gates[k];
      if (!g || seg.gateIndex !== g.index) return false;
      const T = seg.durationS;
      const d: Vec3 = [0, 1, 2].map((i) => position(seg.axes[i]!, T) - g.p_ned_m[i]!) as Vec3;
      const v: Vec3 = [0, 1, 2].map((i) => velocity(seg.axes[i]!, T)) as Vec3;
      const speed = Math.hypot(v[0], v[1], v[2]);
      if (!(speed > 0)) return false;
      const along = d[0] * g.n_ned[0] + d[1] * g.n_ned[1] + d[2] * g.n_ned[2];
      const across = Math.hypot(d[0] - along * g.n_ned[0], d[1] - along * g.n_ned[1], d[2] - along * g.n_ned[2]);
      // Crossing at an angle to the (re-estimated) normal moves where the plan crosses the plane: allow 5°.
      const cos = (v[0] * g.n_ned[0] + v[1] * g.n_ned[1] + v[2] * g.n_ned[2]) / speed;
      return across <= tol.across && Math.abs(along) <= tol.along && cos >= Math.cos((5 * Math.PI) / 180);
    });
  }

  private gatesChanged(gates: PlanGate[]): boolean {
    if (gates.length !== this.gatesKey.length) return true;
    return gates.some((g, k) => {
      const old = this.gatesKey[k]!;
      return old.index !== g.index || dist(old.p_ned_m, g.p_ned_m) > this.replan.gateMoveM;
    });
  }
}

function sameIndices(a: PlanGate[], b: PlanGate[]): boolean {
  return a.length === b.length && a.every((g, k) => g.index === b[k]!.index);
}

function copyGate(g: PlanGate): PlanGate {
  return { index: g.index, p_ned_m: [...g.p_ned_m], n_ned: [...g.n_ned] };
}

function dist(a: Vec3, b: Vec3): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}
