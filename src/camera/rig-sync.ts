import type { CameraImage, FrameSet, FrameSetStats } from '../core/messages.js';

/**
 * Rig synchronisation: the pure core that groups the images of all cameras into FrameSets, one per instant. No
 * clock, no timers: the caller passes the current time to `push` (an image arrived) and `poll` (time passed), and
 * gets back the FrameSets that are ready, in capture-time order.
 *
 * Grouping. The oldest waiting image is the anchor of the next set; every camera contributes its oldest waiting
 * image captured within [anchor, anchor + maxSkew]. A set goes out as soon as every camera is settled: it has an
 * image in the window, or it has already sent a newer one (so it missed this instant), or it is dead (nothing for
 * `deadAfterUs`). Otherwise the set waits at most `timeoutUs` after the anchor arrived and then goes out with
 * holes. So a dead rig costs at most the dead time once, never a stalled pipeline; an image that arrives for an
 * instant already sent is late and dropped (counted).
 */
export interface RigSyncParams {
  /** Slot names "rig/side" in FrameSet order. */
  slots: readonly string[];
  maxSkewUs: number;
  timeoutUs: number;
  deadAfterUs: number;
  /** Time the cameras were started: a camera that never sends is dead `deadAfterUs` after it. */
  startUs: number;
  /** Images kept per camera while waiting; older ones are dropped as late. */
  maxQueue?: number;
}

interface Queued {
  img: CameraImage;
  arrivalUs: number;
}

export class RigSync {
  private readonly index = new Map<string, number>();
  private readonly queues: Queued[][];
  private readonly lastSeenUs: number[];
  /** Capture times up to here belong to sets already sent. */
  private floorUs = -Infinity;
  private seq = 0;
  private sets = 0;
  private setsWithHoles = 0;
  private lateImages = 0;
  private unknownImages = 0;

  constructor(private readonly p: RigSyncParams) {
    p.slots.forEach((s, i) => this.index.set(s, i));
    this.queues = p.slots.map(() => []);
    this.lastSeenUs = p.slots.map(() => p.startUs);
  }

  /** An image arrived at nowUs; returns the FrameSets it completes. */
  push(img: CameraImage, nowUs: number): FrameSet[] {
    this.enqueue(img, nowUs);
    return this.poll(nowUs);
  }

  /** Images that arrived together (both halves of a side-by-side frame): queued all before any set is decided. */
  pushAll(imgs: readonly CameraImage[], nowUs: number): FrameSet[] {
    for (const img of imgs) this.enqueue(img, nowUs);
    return this.poll(nowUs);
  }

  private enqueue(img: CameraImage, nowUs: number): void {
    const slot = this.index.get(`${img.rig}/${img.side}`);
    if (slot === undefined) {
      this.unknownImages++;
      return;
    }
    this.lastSeenUs[slot] = nowUs;
    const q = this.queues[slot]!;
    const newest = q.at(-1);
    if (img.tSampleUs <= this.floorUs || (newest && img.tSampleUs <= newest.img.tSampleUs)) {
      this.lateImages++;
    } else {
      q.push({ img, arrivalUs: nowUs });
      if (q.length > (this.p.maxQueue ?? 16)) {
        q.shift();
        this.lateImages++;
      }
    }
  }

  /** Time passed: returns the FrameSets whose wait is over. */
  poll(nowUs: number): FrameSet[] {
    const out: FrameSet[] = [];
    for (;;) {
      const set = this.next(nowUs);
      if (!set) break;
      out.push(set);
    }
    return out;
  }

  /** "rig/side" of cameras with nothing for the dead time. */
  deadSlots(nowUs: number): string[] {
    return this.p.slots.filter((_, i) => nowUs - this.lastSeenUs[i]! > this.p.deadAfterUs);
  }

  stats(nowUs: number): FrameSetStats {
    return { tUs: nowUs, sets: this.sets, setsWithHoles: this.setsWithHoles, lateImages: this.lateImages + this.unknownImages };
  }

  private next(nowUs: number): FrameSet | null {
    let anchor: Queued | null = null;
    for (const q of this.queues) {
      const head = q[0];
      if (head && (!anchor || head.img.tSampleUs < anchor.img.tSampleUs)) anchor = head;
    }
    if (!anchor) return null;
    const windowEnd = anchor.img.tSampleUs + this.p.maxSkewUs;
    let settled = true;
    const dead: boolean[] = [];
    for (let i = 0; i < this.queues.length; i++) {
      const head = this.queues[i]![0];
      dead[i] = nowUs - this.lastSeenUs[i]! > this.p.deadAfterUs;
      if (!head && !dead[i]) settled = false;
    }
    if (!settled && nowUs < anchor.arrivalUs + this.p.timeoutUs) return null;

    const images: (CameraImage | null)[] = [];
    const holes: string[] = [];
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < this.queues.length; i++) {
      const q = this.queues[i]!;
      const head = q[0];
      if (head && head.img.tSampleUs <= windowEnd) {
        q.shift();
        images.push(head.img);
        const t = head.img.tSampleUs;
        if (t < lo) lo = t;
        if (t > hi) hi = t;
      } else {
        images.push(null);
        holes.push(this.p.slots[i]!);
      }
    }
    this.floorUs = windowEnd;
    this.sets++;
    if (holes.length) this.setsWithHoles++;
    return {
      tUs: nowUs,
      // The anchor (earliest capture in the set), not the mean: anchors strictly increase from set to set, a mean
      // need not (a set may hold a late-phase image the next set's lone early one precedes), and consumers that
      // integrate over FrameSets want time to move forward. Each image keeps its own tSampleUs for precision.
      tSampleUs: anchor.img.tSampleUs,
      seq: this.seq++,
      images,
      holes,
      dead: this.p.slots.filter((_, i) => dead[i]),
      skewUs: hi - lo,
    };
  }
}
