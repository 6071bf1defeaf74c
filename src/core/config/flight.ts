import { z } from 'zod';

const port = z.number().int().min(1).max(65535);
const host = z.string().min(1);

/** Where the flight controller is: serial port, UDP (bind and/or fixed peer) or TCP client. */
export const transportSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('serial'),
      path: z.string().min(1).describe('device, e.g. /dev/ttyTHS0 or /dev/racepilot-fc'),
      baudRate: z
        .number()
        .int()
        .refine((b) => [9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 921600, 1000000, 1500000, 2000000, 3000000].includes(b), {
          message: 'a standard baud rate (57600, 115200, 921600, ...)',
        }),
    })
    .strict(),
  z
    .object({
      kind: z.literal('udp'),
      /** Address to listen on; the autopilot's packets arrive here and replies go to whoever sent last. */
      bindHost: host.default('0.0.0.0'),
      bindPort: port.optional(),
      /** A fixed peer to send to before (or instead of) learning it from incoming packets. */
      peerHost: host.optional(),
      peerPort: port.optional(),
    })
    .strict(),
  z.object({ kind: z.literal('tcp'), host, port }).strict(),
]);

export const flightSchema = z
  .object({
    transport: transportSchema.default({ kind: 'udp', bindHost: '0.0.0.0', bindPort: 14540 }),
    /** Our MAVLink identity: a companion computer (MAV_COMP_ID_ONBOARD_COMPUTER = 191). */
    systemId: z.number().int().min(1).max(255).default(1),
    componentId: z.number().int().min(1).max(255).default(191),
    /** The autopilot's system id, or 0 to take the first autopilot that sends a heartbeat. */
    targetSystem: z.number().int().min(0).max(255).default(0),
    targetComponent: z.number().int().min(0).max(255).default(1),
    setpointRateHz: z.number().min(5).max(250).default(50),
    /** No heartbeat for this long and the link is lost. */
    heartbeatTimeoutS: z.number().min(0.2).max(10).default(1.5),
    /** PX4 refuses OFFBOARD unless setpoints already stream; stream this long before asking. */
    offboardWarmupS: z.number().min(1).max(10).default(1.0),
    /** A trajectory older than this gives the hold/brake setpoint instead. */
    trajectoryStaleS: z.number().min(0.05).max(5).default(0.5),
    commandTimeoutS: z.number().min(0.05).max(10).default(1.0),
    commandRetries: z.number().int().min(0).max(10).default(3),
    /** Rates asked of the autopilot for the messages the pipeline needs (Hz). */
    streamRatesHz: z
      .object({
        localPosition: z.number().min(1).max(500).default(50),
        attitude: z.number().min(1).max(500).default(50),
        odometry: z.number().min(1).max(500).default(50),
        status: z.number().min(0.5).max(50).default(2),
      })
      .strict()
      .default({}),
    reconnect: z
      .object({
        initialS: z.number().min(0.05).max(10).default(0.5),
        maxS: z.number().min(0.1).max(60).default(5),
      })
      .strict()
      .default({}),
    /**
     * Safety gates. Both default to false: a daemon with a default configuration never arms or takes control.
     * `allowArm` lets it arm by itself on a start; `allowOffboard` lets it request OFFBOARD/GUIDED.
     */
    allowArm: z.boolean().default(false),
    allowOffboard: z.boolean().default(false),
    /** Take-off height (m above the start) used by the take-off command. */
    takeoffAltitudeM: z.number().min(0.3).max(50).default(1.5),
  })
  .strict()
  .superRefine((f, ctx) => {
    const problem = udpTransportProblem(f.transport);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['transport'], message: problem });
  });

/** Cross-field rule the discriminated union cannot carry itself; checked by the flight section's refine below. */
export function udpTransportProblem(t: TransportConfig): string | null {
  if (t.kind !== 'udp') return null;
  if (t.bindPort === undefined && (t.peerHost === undefined || t.peerPort === undefined)) {
    return 'a UDP link needs bindPort, or peerHost and peerPort, or both';
  }
  return null;
}

export type FlightConfig = z.infer<typeof flightSchema>;
export type TransportConfig = z.infer<typeof transportSchema>;
