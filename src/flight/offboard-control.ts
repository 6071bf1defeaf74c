import type { ControlState, FcStatus, FlightEvent } from '../core/messages.js';

/**
 * The offboard/guided control state machine, pure: `step(state, inputs, tUs, params) → { state, actions, events }`.
 * The shell (flight-link.ts) performs the actions (commands) and streams setpoints while `streams(state)` says so.
 *
 * PX4:       idle → waiting_link → warmup (stream ≥ offboardWarmupS) → arming → requesting_mode (OFFBOARD) → in_control
 * ArduPilot: idle → waiting_link → requesting_mode (GUIDED) → arming → take-off → in_control
 * Then in_control → landing → done on a stop; → pilot_override when the mode leaves offboard/guided (final: the
 * vehicle is the pilot's for the rest of the flight); → link_lost when heartbeats stop, and back only if the
 * autopilot is still in offboard/guided when they return.
 */

export type ControlAction =
  | { kind: 'arm' }
  | { kind: 'set_mode' } // OFFBOARD on PX4, GUIDED on ArduPilot: the shell knows which from the status
  | { kind: 'takeoff' }
  | { kind: 'land' };

/** What the shell reports back about a command it ran for an action. */
export interface ActionResult {
  action: ControlAction['kind'];
  ok: boolean;
  /** MAV_RESULT name or TIMEOUT. */
  result: string;
}

export interface ControlInputs {
  status: FcStatus;
  /** A start was given (CLI --start, the demo). Edge or level: once seen it is remembered. */
  start: boolean;
  /** Stop asked (signal, end of demo): land if we have the vehicle, otherwise finish. */
  stop: boolean;
  results: ActionResult[];
}

export interface ControlParams {
  allowArm: boolean;
  allowOffboard: boolean;
  offboardWarmupUs: number;
}

export interface ControlMachine {
  state: ControlState;
  enteredUs: number;
  started: boolean;
  /** An action is in flight; do not issue another until its result arrives. */
  pending: ControlAction['kind'] | null;
  /** We armed the vehicle: then we owe it a land on the way out. */
  armedByUs: boolean;
  /** A warning already given in this state (waiting for a pilot to arm), so it is not repeated at 50 Hz. */
  warned: boolean;
}

export interface StepResult {
  state: ControlMachine;
  actions: ControlAction[];
  events: FlightEvent[];
}

export function initialControl(tUs: number): ControlMachine {
  return { state: 'idle', enteredUs: tUs, started: false, pending: null, armedByUs: false, warned: false };
}

/** States in which setpoints stream to the autopilot. */
export function streams(state: ControlState): boolean {
  return state === 'warmup' || state === 'arming' || state === 'requesting_mode' || state === 'in_control' || state === 'link_lost';
}

/** States that no input leaves. */
export function isFinal(state: ControlState): boolean {
  return state === 'pilot_override' || state === 'done' || state === 'failed';
}

export function step(m0: ControlMachine, inp: ControlInputs, tUs: number, p: ControlParams): StepResult {
  const actions: ControlAction[] = [];
  const events: FlightEvent[] = [];
  let m: ControlMachine = { ...m0, started: m0.started || inp.start };
  const st = inp.status;
  const px4 = st.autopilot === 'px4';

  const go = (to: ControlState, reason: string, severity: FlightEvent['severity'] = 'info') => {
    m = { ...m, state: to, enteredUs: tUs, warned: false };
    events.push({ tUs, kind: 'control_state', state: to, message: `${m0.state} → ${to}: ${reason}`, severity });
  };
  const act = (a: ControlAction) => {
    actions.push(a);
    m = { ...m, pending: a.kind };
  };

  for (const r of inp.results) {
    if (r.action === m.pending) m = { ...m, pending: null };
    events.push({ tUs, kind: 'command', message: `${r.action}: ${r.ok ? 'accepted' : `refused (${r.result})`}`, severity: r.ok ? 'info' : 'warning' });
  }
  const failed = (kind: ControlAction['kind']) => inp.results.find((r) => r.action === kind && !r.ok);
  const succeeded = (kind: ControlAction['kind']) => inp.results.some((r) => r.action === kind && r.ok);

  if (isFinal(m.state)) return { state: m, actions, events };

  // A stop wins over everything: land what we armed or control, otherwise just finish.
  if (inp.stop && m.state !== 'landing') {
    const ours = m.armedByUs || m.state === 'in_control' || m.state === 'requesting_mode' || m.state === 'link_lost';
    if (st.armed && ours) {
      go('landing', 'stop requested: landing the vehicle');
      act({ kind: 'land' });
    } else {
      go('done', st.armed ? 'stop requested; the vehicle was never ours, leaving it to the pilot' : 'stop requested');
    }
    return { state: m, actions, events };
  }

  switch (m.state) {
    case 'idle': {
      if (!m.started) break;
      if (!p.allowOffboard) {
        if (!m.warned) {
          events.push({ tUs, kind: 'safety', message: 'start ignored: flight.allowOffboard is false, monitoring only', severity: 'warning' });
          m = { ...m, warned: true };
        }
        break;
      }
      go('waiting_link', 'start given and flight.allowOffboard is true');
      break;
    }
    case 'waiting_link': {
      if (!st.linkUp) break;
      if (st.autopilot !== 'px4' && st.autopilot !== 'ardupilot') {
        go('failed', `autopilot "${st.autopilot}" is neither PX4 nor ArduPilot: will not take control`, 'error');
        break;
      }
      if (px4) go('warmup', `link up to PX4, streaming setpoints for ${p.offboardWarmupUs / 1e6} s before asking for OFFBOARD`);
      else {
        go('requesting_mode', 'link up to ArduPilot, asking for GUIDED');
        act({ kind: 'set_mode' });
      }
      break;
    }
    case 'warmup': {
      if (!st.linkUp) return lost();
      if (tUs - m.enteredUs < p.offboardWarmupUs) break;
      if (st.armed) {
        go('requesting_mode', 'setpoints streaming and the vehicle is armed: asking for OFFBOARD');
        act({ kind: 'set_mode' });
      } else armOrWait('setpoints streaming');
      break;
    }
    case 'arming': {
      if (!st.linkUp) return lost();
      const f = failed('arm');
      if (f) {
        go('failed', `the autopilot refused to arm (${f.result})`, 'error');
        break;
      }
      if (!st.armed) break; // the ACK comes before the heartbeat that shows it armed
      if (px4) {
        go('requesting_mode', 'armed: asking for OFFBOARD');
        act({ kind: 'set_mode' });
      } else if (m.armedByUs) {
        go('in_control', 'armed in GUIDED: taking off');
        act({ kind: 'takeoff' });
      } else go('in_control', 'armed in GUIDED');
      break;
    }
    case 'requesting_mode': {
      if (!st.linkUp) return lost();
      const f = failed('set_mode');
      if (f) {
        giveUp(`the autopilot refused ${px4 ? 'OFFBOARD' : 'GUIDED'} (${f.result})`);
        break;
      }
      if (!st.externalControl) break;
      if (px4) go('in_control', `${st.mode} confirmed by the autopilot`);
      else if (st.armed) go('in_control', `${st.mode} confirmed and armed`);
      else armOrWait(`${st.mode} confirmed`);
      break;
    }
    case 'in_control': {
      if (!st.linkUp) return lost();
      if (failed('takeoff')) {
        giveUp('the autopilot refused to take off');
        break;
      }
      if (!st.externalControl) {
        go('pilot_override', `mode changed to ${st.mode} by someone else: the vehicle is theirs for the rest of the flight`, 'warning');
        break;
      }
      if (!st.armed) go('done', 'the vehicle disarmed (landed or killed)', 'warning');
      break;
    }
    case 'link_lost': {
      if (!st.linkUp) break;
      if (st.externalControl && st.armed) go('in_control', `link back, the autopilot is still in ${st.mode}`, 'warning');
      else if (!st.armed) go('done', 'link back, the vehicle is disarmed', 'warning');
      else go('pilot_override', `link back in ${st.mode}: the autopilot or a pilot left ${px4 ? 'OFFBOARD' : 'GUIDED'}; not taking it back`, 'warning');
      break;
    }
    case 'landing': {
      const f = failed('land');
      if (f) events.push({ tUs, kind: 'safety', message: `land refused (${f.result}): the vehicle is still armed, the pilot must land it`, severity: 'error' });
      if (succeeded('land') || !st.armed) {
        if (!st.armed) go('done', 'landed and disarmed');
      }
      break;
    }
  }
  return { state: m, actions, events };

  function lost(): StepResult {
    go('link_lost', 'no heartbeat from the autopilot: the setpoint stream is no longer trusted', 'error');
    return { state: m, actions, events };
  }

  function armOrWait(why: string): void {
    go('arming', p.allowArm ? `${why}: arming` : `${why}: waiting for the pilot to arm (flight.allowArm is false)`);
    if (p.allowArm) {
      act({ kind: 'arm' });
      m = { ...m, armedByUs: true };
    } else {
      events.push({ tUs, kind: 'safety', message: 'not arming: flight.allowArm is false', severity: 'warning' });
      m = { ...m, warned: true };
    }
  }

  function giveUp(why: string): void {
    go('failed', why, 'error');
    if (st.armed && m.armedByUs) act({ kind: 'land' });
  }
}
