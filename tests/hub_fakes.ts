// Test helper for the hub's parts, tested over plain data: a connection that keeps every event
// written to it (the fake clients are put in JSON mode), with no socket behind it.

import type { Peer } from "../lib/server/hub.ts";
import type { ServerEvent } from "../lib/protocol/events.ts";

const decoder = new TextDecoder();

/**
 * A {@link Peer} that keeps each write as a parsed JSON event of type `E`, whether it was a
 * reply, and the reason it was closed with ("" for none).
 */
export class JsonPeer<E = ServerEvent> implements Peer {
  readonly events: E[] = [];
  readonly replies: boolean[] = [];
  closed: string | undefined;

  constructor(readonly address = "192.0.2.1:5000") {}

  write(bytes: Uint8Array, reply = false): void {
    this.events.push(JSON.parse(decoder.decode(bytes)));
    this.replies.push(reply);
  }

  close(reason?: string): void {
    this.closed = reason ?? "";
  }
}
