// Gives memory back after a burst of work: V8 in Deno keeps a grown heap (and RSS) until a
// major GC, which it may not run on its own once load stops. Reclaimer runs one explicit
// GC when a burst has settled, rarely; saying when a burst ended is the caller's job.

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let collect: (() => void) | undefined;

/** V8's `gc()`, exposed on first use (measured on Deno 2.9.6). */
function gc(): void {
  if (!collect) {
    setFlagsFromString("--expose-gc");
    collect = runInNewContext("gc") as () => void;
  }
  collect();
}

/** When a {@link Reclaimer} collects. Milliseconds. */
export interface ReclaimOptions {
  /** Quiet time after the last {@link Reclaimer.schedule} call before collecting. */
  settleMs: number;
  /** Shortest time between two collections. */
  intervalMs: number;
}

/** The defaults: a second after the burst, at most every 10 s (a GC costs tens of ms). */
export const DEFAULT_RECLAIM: Readonly<ReclaimOptions> = Object.freeze({
  settleMs: 1000,
  intervalMs: 10_000,
});

/**
 * Runs an explicit major GC once a burst of work has ended: each {@link schedule} call
 * pushes it `settleMs` later, and two never run closer than `intervalMs`.
 *
 * @example
 * ```ts
 * const reclaimer = new Reclaimer();
 * reclaimer.schedule(); // the last password hash of a burst finished
 * reclaimer.close(); // stopping: nothing runs after this
 * ```
 */
export class Reclaimer {
  readonly #opts: ReclaimOptions;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #last = -Infinity;
  #closed = false;
  #runs = 0;

  readonly #onCollect: ((before: Deno.MemoryUsage, after: Deno.MemoryUsage) => void) | undefined;

  /** `onCollect` hears the memory use before and after each collection (for the log). */
  constructor(
    options: ReclaimOptions = DEFAULT_RECLAIM,
    onCollect?: (before: Deno.MemoryUsage, after: Deno.MemoryUsage) => void,
  ) {
    this.#opts = options;
    this.#onCollect = onCollect;
  }

  /** Collections run so far. */
  get runs(): number {
    return this.#runs;
  }

  /** A burst of work ended: collect once things stay quiet. Cheap; calls are merged. */
  schedule(): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    const now = Date.now();
    const at = Math.max(now + this.#opts.settleMs, this.#last + this.#opts.intervalMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#runs++;
      const before = Deno.memoryUsage();
      gc();
      // The interval runs from the end of a collection to the start of the next.
      this.#last = Date.now();
      this.#onCollect?.(before, Deno.memoryUsage());
    }, at - now);
  }

  /** Cancels a pending collection and ignores later calls (the server is stopping). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
