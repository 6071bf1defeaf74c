import type { Topics } from './messages.js';

export type Handler<M> = (msg: M) => void;

/**
 * A synchronous, typed publish/subscribe bus. Publishing calls every subscriber in subscription order before it
 * returns, so the order of effects is fixed by the code, not by timers: a replay sees exactly what the flight saw.
 * A subscriber that throws is reported through `onError` and does not stop the others.
 */
export class TopicBus<T extends object = Topics> {
  private readonly handlers = new Map<keyof T, Handler<never>[]>();
  private readonly anyHandlers: ((topic: keyof T, msg: T[keyof T]) => void)[] = [];

  constructor(private readonly onError: (topic: keyof T, err: unknown) => void = defaultOnError) {}

  subscribe<K extends keyof T>(topic: K, handler: Handler<T[K]>): () => void {
    const list = (this.handlers.get(topic) ?? []) as Handler<T[K]>[];
    list.push(handler);
    this.handlers.set(topic, list as Handler<never>[]);
    return () => {
      const i = list.indexOf(handler);
      if (i >= 0) list.splice(i, 1);
    };
  }

  /** Every message on every topic: for the recorder and telemetry, which want them all. */
  subscribeAll(handler: (topic: keyof T, msg: T[keyof T]) => void): () => void {
    this.anyHandlers.push(handler);
    return () => {
      const i = this.anyHandlers.indexOf(handler);
      if (i >= 0) this.anyHandlers.splice(i, 1);
    };
  }

  publish<K extends keyof T>(topic: K, msg: T[K]): void {
    const list = this.handlers.get(topic) as Handler<T[K]>[] | undefined;
    if (list) {
      // Copy: a handler may unsubscribe itself while we iterate.
      for (const h of [...list]) {
        try {
          h(msg);
        } catch (err) {
          this.onError(topic, err);
        }
      }
    }
    for (const h of [...this.anyHandlers]) {
      try {
        h(topic, msg);
      } catch (err) {
        this.onError(topic, err);
      }
    }
  }

  subscriberCount(topic: keyof T): number {
    return this.handlers.get(topic)?.length ?? 0;
  }
}

function defaultOnError(topic: PropertyKey, err: unknown): void {
  // The bus has no logger of its own; surfacing to stderr beats swallowing.
  process.stderr.write(`racepilot: subscriber of ${String(topic)} threw: ${(err as Error)?.stack ?? String(err)}\n`);
}
