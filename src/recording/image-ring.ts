/**
 * Camera pixels on their way to the recorder worker, in one SharedArrayBuffer used as a ring.
 *
 * Why: a worker's postMessage structured-clones every byte it is given, and at four stereo rigs × 30 Hz of RGB
 * (220 MB/s) that clone cost the event loop over half a core (measured with `racepilot bench record --images
 * --image-format raw`). A typed array over shared memory crosses without a copy, so the event loop pays one memcpy
 * per image into the ring and the worker reads the pixels where they lie.
 *
 * Spans are freed in the order they were taken (the worker acknowledges batches in order), so a head and a count
 * of bytes in use describe the ring; a span never wraps: the unused end is charged to the span that skips it.
 * Full means "the worker is behind": the caller records the FrameSet without its pixels.
 */
export class ImageRing {
  private readonly buf: SharedArrayBuffer;
  private head = 0;
  private used = 0;

  constructor(readonly capacity: number) {
    this.buf = new SharedArrayBuffer(capacity);
  }

  /** A copy of `data` in the ring, and what it costs (bytes to free later), or null when it does not fit now. */
  copyIn(data: Uint8Array): { view: Uint8Array; cost: number } | null {
    const n = data.byteLength;
    // A span that would run past the end starts again at 0 (also when the head sits exactly at the end: pad 0).
    const wrap = this.head + n > this.capacity;
    const pad = wrap ? this.capacity - this.head : 0;
    if (this.used + pad + n > this.capacity) return null;
    if (wrap) this.head = 0;
    const view = new Uint8Array(this.buf, this.head, n);
    view.set(data);
    this.head += n;
    this.used += pad + n;
    return { view, cost: pad + n };
  }

  /** Where the ring stands, to take back spans just taken (`rollback`): only the newest can be, in one go. */
  mark(): { head: number; used: number } {
    return { head: this.head, used: this.used };
  }

  rollback(m: { head: number; used: number }): void {
    this.head = m.head;
    this.used = m.used;
  }

  /** Gives back the oldest spans' bytes (the sum of their costs). */
  free(cost: number): void {
    this.used -= cost;
    if (this.used < 0) throw new Error(`ImageRing: freed ${-this.used} bytes more than were taken`);
    // Empty: start from the beginning, so the whole ring is free for the next span, however large.
    if (this.used === 0) this.head = 0;
  }

  get bytesInUse(): number {
    return this.used;
  }
}
