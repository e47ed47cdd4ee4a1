// Paces the lines the client sends under the server's flood control (the rate and burst its
// mode event gives), so a paste or a piped file arrives whole, only slower. Timing only: what
// to send is ChatCore's, writing it to the connection is client_app.ts's.

import { DEFAULT_BURST, DEFAULT_RATE, TokenBucket } from "../protocol/token_bucket.ts";

/** Share of the server's rate the client uses, so lines bunched by the network still fit. */
const RATE_SHARE = 0.9;

/** Lines of the server's burst the client leaves unused, for the same reason. */
const BURST_SPARE = 2;

/**
 * Writes lines in order, no faster than a server allowing `rate` lines a second after a burst
 * of `burst` takes them; lines over that wait their turn. Until {@link Pacer.limit} is called
 * it follows the server's defaults.
 *
 * @example
 * ```ts
 * const pacer = new Pacer((line) => console.log(line));
 * pacer.limit(5, 20);
 * for (let i = 0; i < 40; i++) pacer.send(`line ${i}`); // 18 now, then 4.5 a second
 * await pacer.idle();
 * ```
 */
export class Pacer {
  readonly #write: (line: string) => void;
  readonly #now: () => number;
  #bucket: TokenBucket | undefined;
  /** Lines waiting, each with the lines of the allowance it takes. */
  readonly #queue: { line: string; lines: number }[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #idle: (() => void)[] = [];

  constructor(write: (line: string) => void, now: () => number = Date.now) {
    this.#write = write;
    this.#now = now;
    this.limit(DEFAULT_RATE, DEFAULT_BURST);
  }

  /** Lines waiting their turn. */
  get waiting(): number {
    return this.#queue.length;
  }

  /** Follows the server's flood control: `rate` lines a second after `burst` (rate 0: none). */
  limit(rate: number, burst: number): void {
    this.#bucket = rate > 0
      ? new TokenBucket(rate * RATE_SHARE, Math.max(1, burst - BURST_SPARE), this.#now())
      : undefined;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#flush();
  }

  /**
   * Writes `line` now if the server would take it, or after the lines before it; it takes
   * `lines` of the allowance (a command the server counts as several, a room change).
   */
  send(line: string, lines = 1): void {
    this.#queue.push({ line, lines });
    if (this.#timer === undefined) this.#flush();
  }

  /** Resolves once every line sent so far has been written (or the pacer is closed). */
  idle(): Promise<void> {
    if (this.#queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Drops the lines still waiting and stops the timer. */
  close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#queue.length = 0;
    this.#wake();
  }

  #flush(): void {
    const bucket = this.#bucket;
    while (this.#queue.length > 0) {
      // More than the whole burst would never fit: the burst is all it can wait for.
      const lines = bucket ? Math.min(this.#queue[0].lines, bucket.burst) : 0;
      if (bucket && !bucket.take(this.#now(), lines)) {
        // One token is back within 1/rate seconds.
        this.#timer = setTimeout(() => {
          this.#timer = undefined;
          this.#flush();
        }, Math.ceil(1000 / bucket.rate));
        return;
      }
      this.#write(this.#queue.shift()!.line);
    }
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#idle;
    this.#idle = [];
    for (const resolve of waiters) resolve();
  }
}
