/**
 * Cutting a pipe's byte stream into fixed-size raw frames, and splitting side-by-side stereo frames. Everything here
 * copies with Buffer/TypedArray bulk copies (memcpy) into buffers allocated once: a 640x480 frame costs one copy per
 * pipe chunk (64 KiB) and, for side-by-side frames, one row copy per image row, never a loop per byte.
 */

/** A fixed set of equal buffers handed out in turn: a frame's pixels stay valid until the ring comes round. */
export class BufferRing {
  private readonly buffers: Buffer[];
  private i = 0;

  constructor(
    readonly bytes: number,
    readonly count: number,
  ) {
    if (!(Number.isInteger(bytes) && bytes > 0)) throw new RangeError(`frame size must be a positive integer, got ${bytes}`);
    if (!(Number.isInteger(count) && count >= 1)) throw new RangeError(`buffer count must be at least 1, got ${count}`);
    this.buffers = Array.from({ length: count }, () => Buffer.alloc(bytes));
  }

  next(): Buffer {
    const b = this.buffers[this.i]!;
    this.i = (this.i + 1) % this.count;
    return b;
  }
}

/**
 * Reassembles frames of `frameBytes` from arbitrary chunks. `target()` supplies the buffer the next frame is
 * written into (from a ring, or one scratch buffer when the caller consumes the frame synchronously); `onFrame` gets
 * it once full. A chunk may end mid-frame or hold several frames.
 */
export class FrameAssembler {
  private current: Buffer | null = null;
  private filled = 0;

  constructor(
    readonly frameBytes: number,
    private readonly target: () => Buffer,
    private readonly onFrame: (frame: Buffer) => void,
  ) {
    if (!(Number.isInteger(frameBytes) && frameBytes > 0)) throw new RangeError(`frame size must be a positive integer, got ${frameBytes}`);
  }

  push(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) {
      if (!this.current) {
        const t = this.target();
        if (t.length < this.frameBytes) throw new RangeError(`frame buffer of ${t.length} bytes is smaller than a frame (${this.frameBytes})`);
        this.current = t;
        this.filled = 0;
      }
      const n = Math.min(this.frameBytes - this.filled, chunk.length - off);
      this.current.set(chunk.subarray(off, off + n), this.filled);
      this.filled += n;
      off += n;
      if (this.filled === this.frameBytes) {
        const frame = this.current;
        this.current = null;
        this.filled = 0;
        this.onFrame(frame.length === this.frameBytes ? frame : frame.subarray(0, this.frameBytes));
      }
    }
  }

  /** Bytes of a frame not yet complete. */
  get pendingBytes(): number {
    return this.filled;
  }

  /** Forgets a partial frame: after a pipeline restart the new stream starts on a frame boundary. */
  reset(): void {
    this.current = null;
    this.filled = 0;
  }
}

/**
 * Splits a side-by-side frame (2·width x height, left image in the left half) into its left and right images.
 * `bpp` is bytes per pixel; rows have no padding.
 */
export function splitSideBySide(src: Uint8Array, width: number, height: number, bpp: number, left: Uint8Array, right: Uint8Array): void {
  const row = width * bpp;
  if (src.length < 2 * row * height) throw new RangeError(`side-by-side frame of ${src.length} bytes is smaller than 2·${width}x${height}x${bpp}`);
  if (left.length < row * height || right.length < row * height) throw new RangeError(`output images smaller than ${width}x${height}x${bpp}`);
  for (let y = 0; y < height; y++) {
    const s = 2 * row * y;
    left.set(src.subarray(s, s + row), row * y);
    right.set(src.subarray(s + row, s + 2 * row), row * y);
  }
}
