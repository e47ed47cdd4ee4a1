// Flood control both programs agree on: the server admits a client's lines through a token
// bucket, and chat-client paces what it sends under the same bucket so nothing is dropped.

/** The server's default flood control: lines a second, after a burst of this many at once. */
export const DEFAULT_RATE = 5;
export const DEFAULT_BURST = 20;
/**
 * Lines a command others see (a rename, a room change, a topic) counts as by default: the
 * server charges it, and chat-client paces a room change as that many lines.
 */
export const DEFAULT_NOTICE_COST = 5;

/**
 * A token bucket: `burst` tokens, refilled at `rate` per second. Pure: the caller passes
 * the time, so tests can drive it.
 *
 * @example
 * ```ts
 * const b = new TokenBucket(1, 2, 0);
 * b.take(0); b.take(0); // true, true
 * b.take(0);            // false: empty
 * b.take(1000);         // true: one token came back
 * ```
 */
export class TokenBucket {
  #tokens: number;
  #last: number;

  constructor(readonly rate: number, readonly burst: number, now: number) {
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes `n` tokens (one by default) if there are that many. */
  take(now: number, n = 1): boolean {
    this.#refill(now);
    if (this.#tokens < n) return false;
    this.#tokens -= n;
    return true;
  }

  /** Whether the bucket is full again (the client has been calm for a while). */
  full(now: number): boolean {
    this.#refill(now);
    return this.#tokens >= this.burst;
  }

  #refill(now: number): void {
    const elapsed = now - this.#last;
    if (elapsed > 0) {
      this.#tokens = Math.min(this.burst, this.#tokens + (elapsed * this.rate) / 1000);
      this.#last = now;
    }
  }
}
