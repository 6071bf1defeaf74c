/**
 * PX4's flight modes as they appear in HEARTBEAT.custom_mode (px4_custom_mode.h): main mode in bits 16–23, sub
 * mode in bits 24–31. Only AUTO has sub modes here; the others send sub mode 0. The simulator keeps its own copy of
 * the table because nothing in sim/ may be needed by the pipeline, and the pipeline's decoder must not trust ours.
 */
export const PX4_MAIN_MODE = { MANUAL: 1, ALTCTL: 2, POSCTL: 3, AUTO: 4, ACRO: 5, OFFBOARD: 6, STABILIZED: 7 } as const;
export const PX4_AUTO_SUB_MODE = { READY: 1, TAKEOFF: 2, LOITER: 3, MISSION: 4, RTL: 5, LAND: 6 } as const;

export type Px4Mode =
  | 'MANUAL' | 'ALTCTL' | 'POSCTL' | 'ACRO' | 'OFFBOARD' | 'STABILIZED'
  | 'AUTO.READY' | 'AUTO.TAKEOFF' | 'AUTO.LOITER' | 'AUTO.MISSION' | 'AUTO.RTL' | 'AUTO.LAND';

export function encodePx4Mode(mode: Px4Mode): number {
  if (mode.startsWith('AUTO.')) {
    const sub = PX4_AUTO_SUB_MODE[mode.slice(5) as keyof typeof PX4_AUTO_SUB_MODE];
    return ((PX4_MAIN_MODE.AUTO << 16) | (sub << 24)) >>> 0;
  }
  return (PX4_MAIN_MODE[mode as keyof typeof PX4_MAIN_MODE] << 16) >>> 0;
}

/** The mode of a (main, sub) pair, or null when PX4 has no such mode. AUTO with sub 0 is PX4's mission mode. */
export function px4ModeFrom(main: number, sub: number): Px4Mode | null {
  if (main === PX4_MAIN_MODE.AUTO) {
    if (sub === 0) return 'AUTO.MISSION';
    const name = Object.entries(PX4_AUTO_SUB_MODE).find(([, v]) => v === sub)?.[0];
    return name ? (`AUTO.${name}` as Px4Mode) : null;
  }
  const name = Object.entries(PX4_MAIN_MODE).find(([, v]) => v === main)?.[0];
  return name && name !== 'AUTO' ? (name as Px4Mode) : null;
}

export const decodePx4CustomMode = (customMode: number): Px4Mode | null =>
  px4ModeFrom((customMode >>> 16) & 0xff, (customMode >>> 24) & 0xff);

/** Modes that need a pilot's sticks (PX4 refuses them without RC). */
export const MANUAL_MODES: ReadonlySet<Px4Mode> = new Set(['MANUAL', 'STABILIZED', 'ACRO', 'ALTCTL', 'POSCTL']);
