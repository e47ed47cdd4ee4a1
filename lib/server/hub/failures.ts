// When something fails for a client: a store error (the data file busy, the disk full) or a
// bug becomes one log line and one reply to that client; nobody else notices and the server
// goes on. Which errors come from the store is store.ts's; catching them is the caller's.

import type { Client } from "./client.ts";
import { isStoreError, storeErrorText } from "../store.ts";
import type { Delivery } from "./delivery.ts";

/** A one-line description of a thrown value. */
export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** What reporting a failure works with; the hub gives its own parts. */
export interface FailuresContext {
  out: Delivery;
  log(line: string): void;
  /** How the log names a client. */
  who(client: Client): string;
}

/** Tells a client what failed for it, and logs why. */
export class Failures {
  readonly #ctx: FailuresContext;

  /** Works on `ctx`. */
  constructor(ctx: FailuresContext) {
    this.#ctx = ctx;
  }

  /**
   * Something failed while handling `what` for a client: a store error or a bug. Either way
   * a log line and a reply to that client.
   */
  failed(client: Client, err: unknown, what: string): void {
    if (isStoreError(err)) {
      this.#ctx.log(`store failed for ${this.#ctx.who(client)}: ${describe(err)}`);
      this.#ctx.out.error(
        client,
        "not-stored",
        `the server could not do ${what}: ${storeErrorText(err)}; try again later`,
      );
    } else {
      this.#ctx.log(`error for ${this.#ctx.who(client)}: ${describe(err)}`);
      this.#ctx.out.error(client, "internal", `the server could not handle ${what}`);
    }
  }

  /** Tells a client what it asked was not stored (so not sent), and logs why. */
  notStored(client: Client, err: unknown): void {
    this.#ctx.log(`store failed: ${describe(err)}`);
    this.#ctx.out.error(
      client,
      "not-stored",
      `the server could not store that (${storeErrorText(err)}); it was not sent`,
    );
  }
}
