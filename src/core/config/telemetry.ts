import { z } from 'zod';

const port = z.number().int().min(0).max(65535);
const host = z.string().min(1);

/**
 * Ground-station endpoints MAVLink is forwarded to and from (as mavlink-router's UDP endpoints):
 * - `to`: we send to a fixed ground station (QGroundControl listens on 14550) and accept its replies;
 * - `listen`: we bind an address and answer whoever sent to it last (a GCS that connects to the drone).
 */
export const gcsEndpointSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('to'), host, port: port.min(1) }).strict(),
  z.object({ kind: z.literal('listen'), bindHost: host.default('0.0.0.0'), bindPort: port }).strict(),
]);

/** Addresses that only this machine can reach: binding there needs no token. */
export function isLoopbackHost(h: string): boolean {
  const s = h.trim().toLowerCase();
  return s === 'localhost' || s === '::1' || s === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(s);
}

export const telemetrySchema = z
  .object({
    /** The live telemetry WebSocket server (read-only status, events, log lines). */
    enabled: z.boolean().default(true),
    host: host.default('127.0.0.1'),
    /** 0 picks a free port (tests); the drone uses a fixed one. */
    port: port.default(8765),
    /**
     * Shared secret a client passes as `?token=` or `Authorization: Bearer`. Required for any non-loopback bind:
     * the stream shows where the drone is and what it is doing.
     */
    token: z.string().min(16, 'at least 16 characters').optional(),
    statusRateHz: z.number().min(0.5).max(50).default(10),
    maxClients: z.number().int().min(1).max(1000).default(64),
    /**
     * Per-client back-pressure: past `dropAboveBytes` queued, frames to that client are dropped (counted); after
     * `closeAfterDrops` drops in a row, or past `closeAboveBytes`, the client is cut off.
     */
    dropAboveBytes: z.number().int().min(1024).default(256 * 1024),
    closeAboveBytes: z.number().int().min(4096).default(4 * 1024 * 1024),
    closeAfterDrops: z.number().int().min(1).default(50),
    /** Read `tegrastats` for GPU load and temperatures when the binary exists (Jetson). */
    tegrastats: z.boolean().default(true),
    /** MAVLink forwarding between the flight controller and ground stations (QGroundControl, Mission Planner). */
    gcs: z.array(gcsEndpointSchema).max(8).default([]),
  })
  .strict()
  .superRefine((t, ctx) => {
    if (t.enabled && !isLoopbackHost(t.host) && t.token === undefined) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        path: ['token'],
        message: `required when telemetry binds to a non-loopback address (host is "${t.host}")`,
      });
    }
    if (t.closeAboveBytes <= t.dropAboveBytes) {
      ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['closeAboveBytes'], message: 'must be larger than dropAboveBytes' });
    }
  });

export type TelemetryConfig = z.infer<typeof telemetrySchema>;
export type GcsEndpointConfig = z.infer<typeof gcsEndpointSchema>;
