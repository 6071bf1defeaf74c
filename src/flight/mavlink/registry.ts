import { minimal, common, ardupilotmega, type MavLinkData, type MavLinkDataConstructor, MSG_ID_MAGIC_NUMBER } from 'mavlink-mappings';

/** The dialects racepilot speaks: minimal + common + ardupilotmega (PX4 uses common; ArduPilot adds its own). */
export const REGISTRY: Record<number, MavLinkDataConstructor<MavLinkData>> = {
  ...minimal.REGISTRY,
  ...common.REGISTRY,
  ...ardupilotmega.REGISTRY,
};

/**
 * Messages PX4 sends that this release of mavlink-mappings lacks: LINK_NODE_STATUS (8), PROTOCOL_VERSION (300) and
 * CURRENT_EVENT_SEQUENCE (411, PX4's events interface), with the CRC_EXTRA values of MAVLink's common.xml (checked
 * against the PX4 captures in ../shared/data/mavlink). They pass their CRC check, so they count as packets; they are
 * not decoded.
 */
const EXTRA_CRC_EXTRA: Record<number, number> = { 8: 117, 300: 217, 411: 106 };

const EXTRA_NAMES: Record<number, string> = { 8: 'LINK_NODE_STATUS', 300: 'PROTOCOL_VERSION', 411: 'CURRENT_EVENT_SEQUENCE' };

/** CRC_EXTRA per message id, for validating packets (an id without one is unknown to us). */
export const CRC_EXTRA: Record<number, number> = { ...MSG_ID_MAGIC_NUMBER, ...EXTRA_CRC_EXTRA };

export function messageName(msgid: number): string {
  const clazz = REGISTRY[msgid] as unknown as { MSG_NAME?: string } | undefined;
  return clazz?.MSG_NAME ?? EXTRA_NAMES[msgid] ?? `UNKNOWN_${msgid}`;
}

export { minimal, common, ardupilotmega };
