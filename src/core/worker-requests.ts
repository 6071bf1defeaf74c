import type { Worker } from 'node:worker_threads';
import { ReplyReader, replyPoller, type Reply, type ReplyRing } from './reply-ring.js';

/**
 * The event loop's side of a worker that answers requests through a reply ring (reply-ring.ts): it numbers the
 * requests, keeps the worker alive (ref) and the ring polled only while some are awaited, hands each reply to the
 * request with its id, and, once the worker is lost, first hands out the replies it published and then fails the
 * rest and every later request. The request itself is the caller's to post, with the id it is given.
 */
export class WorkerRequests {
  private readonly reader: ReplyReader;
  private readonly pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private lostWith: Error | null = null;

  constructor(private readonly worker: Worker, ring: ReplyRing) {
    this.reader = new ReplyReader(ring);
  }

  /** Why the worker is gone, or null while it serves. */
  get lost(): Error | null {
    return this.lostWith;
  }

  /** Posts a request through `post(id)` and resolves with its reply (ok or not: the caller reads `ok`). */
  request(post: (id: number) => void): Promise<Reply> {
    if (this.lostWith) return Promise.reject(this.lostWith);
    const id = this.nextId;
    this.nextId = (this.nextId + 1) % 2 ** 30; // ids cross the ring as Int32
    return new Promise<Reply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      post(id);
      replyPoller.watch(this.reader, (r) => this.settle(r), () => this.pending.size);
    });
  }

  /** The worker is gone ('error' or 'exit'): its published replies still go out, every other request fails. */
  lose(err: Error): void {
    this.lostWith ??= err;
    for (const r of this.reader.take()) this.settle(r);
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    replyPoller.forget(this.reader);
  }

  private settle(r: Reply): void {
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    // Idle again: the worker must not keep a finished process alive.
    if (this.pending.size === 0) this.worker.unref();
    p.resolve(r);
  }
}
