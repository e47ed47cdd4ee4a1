// Flood control: each client's lines pass a token bucket; past it they are dropped with a
// notice saying how many, and a client that keeps flooding is disconnected. Commands others
// see cost more. The buckets live on Client; closing a connection is connections.ts's.

import type { Client } from "./client.ts";
import { type Limits } from "../limits.ts";
import { TokenBucket } from "../../protocol/token_bucket.ts";
import type { Delivery } from "./delivery.ts";

/** While a client keeps flooding, how often it is told how many lines were dropped. */
export const FLOOD_NOTICE_INTERVAL_MS = 1000;

/** What flood control works with; the hub gives its own parts. */
export interface FloodContext {
  limits: Pick<Limits, "ratePerSecond" | "burst" | "floodDisconnectLines" | "noticeCost">;
  out: Delivery;
  log(line: string): void;
  /** How the log names a client. */
  who(client: Client): string;
  /** Forgets a connection that has closed, with the reason. */
  disconnect(client: Client, reason?: string): void;
}

/** Flood control over each client's buckets. */
export class Flood {
  readonly #ctx: FloodContext;

  /** Works on `ctx`, with its limits. */
  constructor(ctx: FloodContext) {
    this.#ctx = ctx;
  }

  /**
   * Flood control: whether this line may be handled. Past the burst and rate, lines are
   * dropped with a notice saying how many; a client that keeps flooding is disconnected.
   */
  admit(client: Client, now: number): boolean {
    client.lastInput = now;
    const bucket = client.bucket;
    if (!bucket || bucket.take(now)) return true;
    const { floodDisconnectLines } = this.#ctx.limits;
    client.floodBudget ??= new TokenBucket(bucket.rate, floodDisconnectLines, now);
    if (!client.floodBudget.take(now)) {
      this.#ctx.log(`flood ${this.#ctx.who(client)}: disconnected`);
      this.#ctx.out.bye(client, "disconnected for flooding");
      this.#ctx.disconnect(client, "flooding");
      return false;
    }
    // A flood starts after a second without drops; the client is told how many lines it has
    // lost when it starts, then at most once a second while it goes on.
    const starts = now - client.lastDropAt >= FLOOD_NOTICE_INTERVAL_MS;
    client.dropped = starts ? 1 : client.dropped + 1;
    client.lastDropAt = now;
    if (starts || now - client.droppedToldAt >= FLOOD_NOTICE_INTERVAL_MS) {
      client.droppedToldAt = now;
      const lost = client.dropped === 1 ? "1 line" : `${client.dropped} lines`;
      const limit = `limit ${bucket.rate}/s after a burst of ${bucket.burst}`;
      this.#ctx.out.error(client, "flood", `slow down: ${lost} dropped so far (${limit})`);
    }
    return false;
  }

  /**
   * Flood control for what others see (a rename, a room change, a topic): such a command
   * costs `noticeCost` lines of the client's allowance. False, with a notice, when it is
   * spent.
   */
  noisy(client: Client, what: string, now = Date.now()): boolean {
    const extra = this.#ctx.limits.noticeCost - 1;
    if (!client.bucket || extra <= 0 || client.bucket.take(now, extra)) return true;
    const { ratePerSecond, noticeCost } = this.#ctx.limits;
    this.#ctx.out.error(
      client,
      "flood",
      `slow down: ${what} are limited (each counts as ${noticeCost} lines of ${ratePerSecond}/s)`,
    );
    return false;
  }

  /** The flood control a client paces its input under, for the welcome and mode events. */
  get pace(): { rate: number; burst: number } {
    const { ratePerSecond, burst } = this.#ctx.limits;
    return { rate: ratePerSecond, burst };
  }
}
