import { TransportBase } from './transport.js';

export interface MemoryPairOptions {
  /**
   * 'microtask' (default): bytes arrive on a later microtask, in order, as from a socket, so a handler that replies
   * at once does not recurse into the sender. 'sync': bytes arrive inside send(), for a simulation loop that wants
   * everything delivered within its step.
   */
  delivery?: 'microtask' | 'sync';
  /** Names for logs; default "memory:a" and "memory:b". */
  names?: [string, string];
}

/**
 * One end of an in-process byte link: the tests' and the in-process simulator's stand-in for a serial cable.
 * `setLinkUp(false)` on the pair cuts the cable both ways (bytes sent meanwhile are dropped and counted), which is
 * how tests lose the link without timers.
 */
export class MemoryTransport extends TransportBase {
  peer: MemoryTransport | null = null;
  private started = false;
  private closed = false;
  /** Shared by both ends: the cable. */
  linkUp = { value: true };

  constructor(
    readonly name: string,
    private readonly delivery: 'microtask' | 'sync',
  ) {
    super();
  }

  async start(): Promise<void> {
    if (this.closed) return;
    this.started = true;
    this.emitStatus(this.linkUp.value, this.linkUp.value ? 'in-memory link up' : 'in-memory link cut');
  }

  send(bytes: Uint8Array): void {
    const peer = this.peer;
    if (!this.started || this.closed || !this.linkUp.value || !peer || !peer.started || peer.closed) {
      this.stats.bytesDropped += bytes.length;
      return;
    }
    this.stats.bytesOut += bytes.length;
    // A copy: the sender may reuse its buffer, as it may with a socket.
    const chunk = Buffer.from(bytes);
    if (this.delivery === 'sync') peer.receive(chunk);
    else queueMicrotask(() => peer.receive(chunk));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.emitStatus(false, 'closed');
  }

  /** For the pair: bytes in flight when the cable was cut or this end closed are lost, as on a wire. */
  private receive(chunk: Buffer): void {
    if (this.closed || !this.linkUp.value) return;
    this.emitData(chunk);
  }

  /** Called by the pair when the cable changes. */
  linkChanged(): void {
    if (this.started && !this.closed) this.emitStatus(this.linkUp.value, this.linkUp.value ? 'in-memory link up' : 'in-memory link cut');
  }
}

export interface MemoryPair {
  a: MemoryTransport;
  b: MemoryTransport;
  /** Cuts (false) or restores (true) the link in both directions. */
  setLinkUp(up: boolean): void;
}

/** Two connected in-memory transports: what one sends, the other receives. */
export function createMemoryPair(options: MemoryPairOptions = {}): MemoryPair {
  const delivery = options.delivery ?? 'microtask';
  const [nameA, nameB] = options.names ?? ['memory:a', 'memory:b'];
  const a = new MemoryTransport(nameA, delivery);
  const b = new MemoryTransport(nameB, delivery);
  a.peer = b;
  b.peer = a;
  b.linkUp = a.linkUp;
  return {
    a,
    b,
    setLinkUp(up: boolean) {
      if (a.linkUp.value === up) return;
      a.linkUp.value = up;
      a.linkChanged();
      b.linkChanged();
    },
  };
}
