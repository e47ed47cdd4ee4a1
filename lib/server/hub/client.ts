// The hub's state for one connection (Client) and what it needs of the connection (Peer):
// its name, rooms, mode, prompt, flood buckets and the bookkeeping the other parts keep on it.
// It holds data only; the parts in lib/server/hub/ act on it, and session.ts owns the socket.

import type { OutputMode } from "../../protocol/events.ts";
import type { RequestId } from "../../protocol/commands.ts";
import { type Limits } from "../limits.ts";
import { TokenBucket } from "../../protocol/token_bucket.ts";
import type { Prompt } from "./prompts.ts";
import type { Room } from "./rooms.ts";

/** What the hub needs from a connection. */
export interface Peer {
  /** Remote address as `host:port`, for the log and hooks. */
  readonly address: string;
  /**
   * Queues bytes for the connection; never blocks, never throws. A `reply` (bounded, built
   * for this client) is taken whenever the queue is under its cap, so it never makes a
   * reading client look like one that stopped reading.
   */
  write(bytes: Uint8Array, reply?: boolean): void;
  /**
   * Asks the connection not to show the next line typed (a password): telnet's echo. False
   * (or absent) when it cannot: the line shows as it is typed.
   */
  hideNextLine?(): boolean;
  /**
   * The client's rooms changed (a join, a part, a switch): a connection that edits the input
   * line itself (telnet's character mode) shows the active room in its prompt.
   */
  rooms?(active: string | undefined, joined: readonly string[]): void;
  /** Closes the connection once queued output is flushed (bounded); `reason` is logged. */
  close(reason?: string): void;
}

/**
 * Where a message goes (a room message: the active room unless `room` says which); a two-step
 * command (seed 000) keeps one for the next line.
 */
export type Target =
  | { kind: "private"; to: string; notice?: true }
  | { kind: "group"; to: string[] }
  | { kind: "public"; room?: Room; notice?: true }
  | { kind: "action"; room?: Room };

/** The hub's state for one connection. */
export class Client {
  name: string | undefined;
  mode: OutputMode = "text";
  pending: Target | undefined;
  closing = false;
  /** The active room, where plain text goes; undefined when in none. */
  room: Room | undefined;
  /** Every room the client is in, the one used last at the end (the active one, mostly). */
  rooms: Room[] = [];
  /** Why the client is away, when it is. */
  away: string | undefined;
  /** Name keys whose messages this client does not see; made at the first /ignore. */
  ignored: Set<string> | undefined;
  /** Who last sent this client a private message, for /reply. */
  lastPmFrom: string | undefined;
  /** When the connection arrived and when it last sent a line (ms since the epoch). */
  readonly connectedAt: number;
  lastInput: number;
  /** Flood control: lines allowed now; absent when flood control is off. */
  bucket: TokenBucket | undefined;
  /** Dropped lines allowed before disconnecting; made at the first drop. */
  floodBudget: TokenBucket | undefined;
  /** Lines dropped in the current flood (one that has gone a second without a drop is over). */
  dropped = 0;
  /** When the last line was dropped, and when the client was last told (ms since the epoch). */
  lastDropAt = 0;
  droppedToldAt = 0;
  /** What the next plain line is; the server and the client's prompt agree on it. */
  prompt: Prompt = { for: "name" };
  operator = false;
  /** Wrong passwords so far on this connection (server, operator or name); never reset. */
  authFailures = 0;
  /** Digests of the last secrets typed on this connection (see prompts.ts). */
  secrets: string[] | undefined;
  /** Lines that came in while a password was being checked; handled in order after. */
  held: string[] | undefined;
  /** The throttled answer to a password, cleared on disconnect. */
  timer: ReturnType<typeof setTimeout> | undefined;
  /**
   * For each room this client left (by key), the `ts` of the newest message it had seen
   * there: a return replays only what came after. At most `maxRooms` entries.
   */
  readonly seen = new Map<string, number>();
  /** The JSON request being answered: every reply carries its id; `answered` once one went. */
  request: { id: RequestId; answered: boolean } | undefined;

  constructor(readonly peer: Peer, limits: Limits, now: number) {
    this.connectedAt = this.lastInput = now;
    this.bucket = limits.ratePerSecond > 0
      ? new TokenBucket(limits.ratePerSecond, limits.burst, now)
      : undefined;
  }
}

/** How the log names a client: its name, or its address before it has one. */
export function who(client: Client): string {
  return client.name ?? client.peer.address;
}
