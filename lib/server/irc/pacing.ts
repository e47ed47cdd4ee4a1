// Flood control that delays rather than drops (ergo's fakelag): the hub's own token bucket,
// mirrored. Each IRC line waits until the bucket holds what handling it can cost in the hub at
// most, so the hub never drops an IRC client's line; past IRC_QUEUED_LINES waiting, the
// connection ends. Handling a line is the door's.

import { TokenBucket } from "../../protocol/token_bucket.ts";
import { IRC_MAX_TARGETS, IRC_QUEUED_LINES } from "../limits.ts";
import { parseIrc } from "./parse.ts";

/** Stands in the queue for a line that was too long. */
export const OVERLONG = Symbol("overlong");

/** What pacing works with; the door gives its own. */
export interface PacingContext {
  /** The hub's flood control: lines a second after a burst (rate 0: none). */
  rate: number;
  burst: number;
  /** The most handling this line can cost in the hub's bucket. */
  cost(command: string, params: string[]): number;
  /** Handles a line whose cost has been paid. */
  handle(text: string | typeof OVERLONG, command: string, params: string[]): void;
  /** Whether the client is still connected (lines of a closing one are dropped). */
  open(): boolean;
  /** Too many lines wait: says so to the client and ends the connection. */
  excess(): void;
}

/**
 * The most a line can cost in the hub's flood bucket once the client is registered: one per
 * request it makes, and `noticeCost` for a request others are told of (a join, a part, a
 * rename, a topic). `channels` is how many the client is in (JOIN 0 leaves them all).
 */
export function lineCost(
  command: string,
  params: string[],
  noticeCost: number,
  channels: number,
): number {
  const targets = Math.min(IRC_MAX_TARGETS, (params[0] ?? "").split(",").length);
  switch (command) {
    case "JOIN":
      return noticeCost * (params[0] === "0" ? Math.max(1, channels) : targets);
    case "PART":
      return noticeCost * targets;
    case "NICK":
      return noticeCost + 1;
    case "TOPIC":
      return 1 + noticeCost;
    case "PRIVMSG":
    case "NOTICE":
    case "NAMES":
      return targets;
    default:
      return 1;
  }
}

/** One connection's lines, handled as the bucket allows. */
export class Pacing {
  readonly #ctx: PacingContext;
  /** Absent when flood control is off. */
  readonly #bucket: TokenBucket | undefined;
  /** Lines waiting for the bucket, in order; at most {@link IRC_QUEUED_LINES}. */
  readonly #queue: (string | typeof OVERLONG)[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Paces lines for `ctx`, with a full bucket. */
  constructor(ctx: PacingContext) {
    this.#ctx = ctx;
    this.#bucket = ctx.rate > 0 ? new TokenBucket(ctx.rate, ctx.burst, Date.now()) : undefined;
  }

  /** Takes one line's worth, as the hub's own bucket pays for the door's `/proto json`. */
  start(): void {
    this.#bucket?.take(Date.now());
  }

  /** A line from the client: handled now if the bucket allows and nothing waits, else queued. */
  line(text: string | typeof OVERLONG): void {
    if (!this.#ctx.open()) return;
    if (this.#queue.length >= IRC_QUEUED_LINES) {
      this.#ctx.excess();
      return;
    }
    this.#queue.push(text);
    if (this.#queue.length === 1) this.#drain();
  }

  /** The connection has closed: the waiting lines go. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#queue.length = 0;
  }

  /** Handles the waiting lines the bucket allows; waits for it to refill for the rest. */
  #drain(): void {
    this.#timer = undefined;
    while (this.#queue.length > 0 && this.#ctx.open()) {
      const text = this.#queue[0];
      const { command, params } = parseIrc(text === OVERLONG ? "" : text);
      // A cost past the burst could never be paid: JOIN 0 in many rooms waits for a full one.
      const cost = Math.min(this.#ctx.cost(command, params), this.#ctx.burst);
      if (this.#bucket && !this.#bucket.take(Date.now(), cost)) {
        const ms = Math.ceil((cost * 1000) / this.#bucket.rate);
        this.#timer = setTimeout(() => this.#drain(), Math.min(ms, 1000));
        return;
      }
      this.#queue.shift();
      this.#ctx.handle(text, command, params);
    }
    this.#queue.length = 0;
  }
}
