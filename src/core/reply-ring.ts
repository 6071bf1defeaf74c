/**
 * Replies from a worker thread to the event loop through shared memory, which the event loop reads on a 1 ms poll
 * while it waits for any. This replaces `postMessage` for the replies the perception workers send tens of times a
 * second, because a message wakes the event loop into a lock its sender still holds:
 *
 * Node's `MessagePortData::AddToIncomingQueue` wakes the receiving thread (uv_async_send) while holding the port's
 * queue mutex, and the woken main thread's first act (`MessagePort::OnMessage`) is to take that mutex. The bulk
 * workers run at SCHED_IDLE (thread-priority.ts), so the woken main thread preempts the sender inside its critical
 * section and then sleeps on the mutex until the sender gets a CPU back, which with every core busy takes
 * milliseconds: `perf record -e syscalls:sys_enter_futex --call-graph dwarf` on the main thread put every one of
 * its futex waits there (23-35 per 30 s of saturated `racepilot bench perception`). `Atomics.waitAsync` would not
 * help: V8 resolves an async waiter through a task it posts while holding its futex emulation's global mutex, which
 * the woken thread then takes. Here nothing is shared but the ring: the writer never wakes anyone, the reader never
 * locks. The price is up to a millisecond per reply, paid only while replies are awaited.
 *
 * Layout (one SharedArrayBuffer): two counters, replies written and replies read; then `slots` records of a header
 * (status, id, number count, text length), `numbers` float64s and `textBytes` bytes of UTF-8. The writer fills a
 * record, then publishes it by storing the written count (a sequentially consistent store: the record is complete
 * for any reader that loads the new count). A full ring makes the writer wait for the reader, never overwrite.
 */

const WRITTEN = 0;
const READ = 1;
const HEADER_INTS = 4;

/**
 * The counters run modulo a multiple of the slot count below 2^31, so that a counter never overflows an Int32 and
 * counter % slots stays the slot (2^31 replies are a year at 60 a second, but a daemon should not care).
 */
const wrapOf = (slots: number) => slots * Math.floor(2 ** 30 / slots);
const ahead = (written: number, read: number, wrap: number) => (written - read + wrap) % wrap;

export interface ReplyRingShape {
  slots: number;
  numbers: number;
  textBytes: number;
}

/** One ring's shared memory and shape: made on the reading side, handed to the worker (workerData or a message). */
export interface ReplyRing {
  buffer: SharedArrayBuffer;
  shape: ReplyRingShape;
}

export interface Reply {
  id: number;
  ok: boolean;
  /** A plain array: a typed copy would allocate a backing store per reply, under the allocator's lock. */
  numbers: number[];
  text: string;
}

/** Byte offsets of the ring's parts (see the layout above), and its size. */
function layout({ slots, numbers, textBytes }: ReplyRingShape): { numbersAt: number; textAt: number; bytes: number } {
  const numbersAt = Math.ceil((4 * (2 + HEADER_INTS * slots)) / 8) * 8;
  const textAt = numbersAt + 8 * numbers * slots;
  return { numbersAt, textAt, bytes: textAt + textBytes * slots };
}

class RingView {
  readonly ctl: Int32Array;
  readonly headers: Int32Array;
  readonly numbers: Float64Array;
  readonly text: Uint8Array;
  readonly shape: ReplyRingShape;

  constructor({ buffer, shape }: ReplyRing) {
    const { numbersAt, textAt } = layout(shape);
    this.shape = shape;
    this.ctl = new Int32Array(buffer, 0, 2);
    this.headers = new Int32Array(buffer, 8, HEADER_INTS * shape.slots);
    this.numbers = new Float64Array(buffer, numbersAt, shape.numbers * shape.slots);
    this.text = new Uint8Array(buffer, textAt, shape.textBytes * shape.slots);
  }
}

export function createReplyRing(shape: ReplyRingShape): ReplyRing {
  if (shape.slots < 1 || shape.numbers < 0 || shape.textBytes < 0) throw new RangeError(`bad reply ring shape ${JSON.stringify(shape)}`);
  return { buffer: new SharedArrayBuffer(layout(shape).bytes), shape };
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The worker's end. */
export class ReplyWriter {
  private readonly v: RingView;

  constructor(ring: ReplyRing) {
    this.v = new RingView(ring);
  }

  /** Publishes one reply; text longer than the ring's textBytes is cut (it is an error message for people). */
  write(id: number, ok: boolean, numbers: ArrayLike<number> = [], text = ''): void {
    const { ctl, headers, shape } = this.v;
    if (numbers.length > shape.numbers) throw new RangeError(`reply of ${numbers.length} numbers, the ring holds ${shape.numbers}`);
    const written = Atomics.load(ctl, WRITTEN);
    // Full: wait for the reader (a worker may block; the event loop never does). Timed, because the reader does not
    // notify: a notify would take V8's futex mutex on the event loop, the lock this ring exists to avoid.
    const wrap = wrapOf(shape.slots);
    for (let read = Atomics.load(ctl, READ); ahead(written, read, wrap) >= shape.slots; read = Atomics.load(ctl, READ)) Atomics.wait(ctl, READ, read, 2);
    const slot = written % shape.slots;
    // encodeInto never writes part of a character: a cut message still decodes.
    const { written: textLength } = encoder.encodeInto(text, this.v.text.subarray(slot * shape.textBytes, (slot + 1) * shape.textBytes));
    headers.set([ok ? 1 : 2, id, numbers.length, textLength], slot * HEADER_INTS);
    this.v.numbers.set(numbers, slot * shape.numbers);
    Atomics.store(ctl, WRITTEN, (written + 1) % wrap);
  }

  /** Starts both counters at `n` (tests: the wrap-around). Only before any reply is written or read. */
  static startCountersAt(ring: { buffer: SharedArrayBuffer }, n: number): void {
    const ctl = new Int32Array(ring.buffer, 0, 2);
    ctl[WRITTEN] = n;
    ctl[READ] = n;
  }
}

/** The event loop's end: takes the replies published since the last call, oldest first. Never blocks. */
export class ReplyReader {
  private readonly v: RingView;

  constructor(ring: ReplyRing) {
    this.v = new RingView(ring);
  }

  take(): Reply[] {
    const { ctl, headers, shape } = this.v;
    const written = Atomics.load(ctl, WRITTEN);
    let read = Atomics.load(ctl, READ);
    const out: Reply[] = [];
    const wrap = wrapOf(shape.slots);
    for (; read !== written; read = (read + 1) % wrap) {
      const slot = read % shape.slots;
      const h = slot * HEADER_INTS;
      const n = headers[h + 2]!;
      const at = slot * shape.numbers;
      out.push({
        ok: headers[h] === 1, id: headers[h + 1]!, numbers: Array.from(this.v.numbers.subarray(at, at + n)),
        text: headers[h + 3]! > 0 ? decoder.decode(this.v.text.slice(slot * shape.textBytes, slot * shape.textBytes + headers[h + 3]!)) : '',
      });
    }
    Atomics.store(ctl, READ, read);
    return out;
  }
}

/**
 * One 1 ms interval for the whole process, running only while some reader awaits replies: each waiting reader is
 * polled on it and left once it awaits none. The interval keeps the process alive while replies are awaited (as
 * the ref'd worker did while its reply was a message).
 */
export class ReplyPoller {
  private readonly waiting = new Map<ReplyReader, { onReply: (r: Reply) => void; awaited: () => number }>();
  private timer: NodeJS.Timeout | null = null;

  /**
   * `onError` hears of a reply handler that threw, after which the other replies still go out and the poller's
   * bookkeeping is done. Default: rethrown from a microtask, so that a handler's bug is neither swallowed nor leaves
   * replies read but never handed on.
   */
  constructor(private readonly periodMs = 1, private readonly onError: (err: unknown) => void = (err) => queueMicrotask(() => { throw err; })) {}

  /**
   * Polls `reader` until `awaited()` is 0, handing each reply to `onReply`. Call it whenever a request goes out
   * (for a reader already polled it only replaces the callbacks).
   */
  watch(reader: ReplyReader, onReply: (r: Reply) => void, awaited: () => number): void {
    this.waiting.set(reader, { onReply, awaited });
    this.timer ??= setInterval(() => this.poll(), this.periodMs);
  }

  /** Stops polling `reader` (its worker is gone). */
  forget(reader: ReplyReader): void {
    this.waiting.delete(reader);
    this.stopIfIdle();
  }

  /** One round: every waiting reader's new replies (also called by tests). */
  poll(): void {
    for (const [reader, w] of this.waiting) {
      for (const r of reader.take()) {
        try {
          w.onReply(r);
        } catch (err) {
          this.onError(err);
        }
      }
      if (w.awaited() <= 0) this.waiting.delete(reader);
    }
    this.stopIfIdle();
  }

  private stopIfIdle(): void {
    if (this.waiting.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }
}

/** The process's poller: the perception workers' replies share one interval. */
export const replyPoller = new ReplyPoller();
