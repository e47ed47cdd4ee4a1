// Failure throttling for password guesses, keyed by any string (a source address, a secret):
// failures lengthen the wait before an answer, enough of them lock the key out for a while,
// and a quiet period forgets them. Pure: the caller passes the time, says what a key is, and
// decides what a locked key means.

/** How a {@link Throttle} counts, waits and forgets. Durations are milliseconds. */
export interface ThrottleOptions {
  /** The wait after one failure; each failure after doubles it. */
  delayMs: number;
  /** The longest wait. */
  maxDelayMs: number;
  /** Failures that lock a key out (0: never). */
  lockoutAfter: number;
  /** How long a lockout lasts, from the failure that reached it. */
  lockoutMs: number;
  /** Time without a failure after which a key's failures are forgotten. */
  forgetMs: number;
  /** Keys tracked at most; past it the key whose last failure is oldest is forgotten. */
  maxKeys: number;
}

interface Entry {
  failures: number;
  /** When the last failure was recorded. */
  last: number;
  /** When the lockout ends (0: not locked). */
  lockedUntil: number;
}

/**
 * Failures per key over time. A success is not recorded: nothing a guesser does resets a
 * count but waiting out `forgetMs`.
 *
 * @example
 * ```ts
 * const t = new Throttle({
 *   delayMs: 1000, maxDelayMs: 8000, lockoutAfter: 3, lockoutMs: 60_000, forgetMs: 600_000,
 *   maxKeys: 1000,
 * });
 * t.fail("10.0.0.1", 0); // 1
 * t.delayMs(t.failures("10.0.0.1", 0)); // 1000
 * t.fail("10.0.0.1", 0); t.fail("10.0.0.1", 0);
 * t.lockedUntil("10.0.0.1", 0); // 60000
 * ```
 */
export class Throttle {
  readonly #opts: ThrottleOptions;
  /** Entries in the order of their last failure, oldest first. */
  readonly #entries = new Map<string, Entry>();

  constructor(options: ThrottleOptions) {
    this.#opts = options;
  }

  /** Keys tracked now (forgotten ones may linger until touched or evicted). */
  get size(): number {
    return this.#entries.size;
  }

  /** Failures counted against `key` at `now`. */
  failures(key: string, now: number): number {
    return this.#entry(key, now)?.failures ?? 0;
  }

  /** When the lockout of `key` ends, or undefined when it is not locked at `now`. */
  lockedUntil(key: string, now: number): number | undefined {
    const until = this.#entry(key, now)?.lockedUntil ?? 0;
    return until > now ? until : undefined;
  }

  /** Records a failure against `key` at `now`; returns the failures counted with it. */
  fail(key: string, now: number): number {
    const entry = this.#entry(key, now) ?? { failures: 0, last: now, lockedUntil: 0 };
    entry.failures++;
    entry.last = now;
    const { lockoutAfter, lockoutMs, maxKeys } = this.#opts;
    if (lockoutAfter > 0 && entry.failures >= lockoutAfter) entry.lockedUntil = now + lockoutMs;
    // Re-inserted, it moves to the end: the map stays ordered by last failure.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    while (this.#entries.size > maxKeys) {
      this.#entries.delete(this.#entries.keys().next().value!);
    }
    return entry.failures;
  }

  /** The wait before answering a guess made with `failures` counted: 0 for none. */
  delayMs(failures: number): number {
    if (failures <= 0) return 0;
    const { delayMs, maxDelayMs } = this.#opts;
    return Math.min(maxDelayMs, delayMs * 2 ** Math.min(failures - 1, 30));
  }

  /** The entry of `key`, or undefined when it has none or its failures are forgotten. */
  #entry(key: string, now: number): Entry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (now - entry.last >= this.#opts.forgetMs && entry.lockedUntil <= now) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
