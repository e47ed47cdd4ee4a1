// The door's requests to the hub: each JSON request carries an id, and the hub's answers carry
// it back, so an answer is read in the context of what was asked (an `error` to a NICK is 433,
// to a JOIN 405). Keeps the last IRC_CONTEXTS_KEPT; what the answers mean is events.ts's.

import { IRC_CONTEXTS_KEPT } from "../limits.ts";

/** What a request to the hub was for: how its answers read in IRC. */
export type Context =
  | { kind: "say"; target: string; text: string; action: boolean; notice: boolean }
  | { kind: "nick"; nick: string }
  /** SASL PLAIN: the name asked for, then its password at the hub's prompt. */
  | { kind: "sasl"; password: string }
  | { kind: "sasl-pass" }
  /** `kick`: KICK and linechat's other operator commands (BAN, MUTE, UNBAN, UNMUTE). */
  | { kind: "pass" | "join" | "part" | "motd" | "away" | "back" | "op" | "kick" | "quit" }
  | { kind: "switch" }
  /** LIST, of the rooms in `only` (lower case) when it names some. */
  | { kind: "list"; only?: Set<string> }
  /** TOPIC of a room the client is not in: 442 when it exists, 403 when not. */
  | { kind: "exists"; room: string }
  /** `query`: TOPIC #room asked for it; `joining`: sent after a JOIN (no 331 when none). */
  | { kind: "topic"; room: string; query: boolean; joining?: boolean }
  | { kind: "names"; target: string }
  /** WHO of a room, or (`match`) of everyone online whose name fits a mask. */
  | { kind: "who"; target: string; match?: RegExp }
  | { kind: "whois"; target: string };

/** A request with its answers seen so far. */
export interface Pending {
  context: Context;
  /** An event has answered it (the hub answers in the same turn, so this is known at once). */
  answered: boolean;
}

/** The requests one door has sent, by id. */
export class Requests {
  readonly #input: (line: string) => void;
  readonly #pending = new Map<number, Pending>();
  #seq = 0;

  /** Sends lines to the hub with `input` (the hub's `input(client, line)` for this client). */
  constructor(input: (line: string) => void) {
    this.#input = input;
  }

  /** Sends a JSON request to the hub; its answers are read in `context`. */
  send(fields: Record<string, unknown>, context: Context): Pending {
    const id = ++this.#seq;
    const pending = { context, answered: false };
    this.#pending.set(id, pending);
    if (this.#pending.size > IRC_CONTEXTS_KEPT) {
      this.#pending.delete(this.#pending.keys().next().value!);
    }
    this.#input(JSON.stringify({ ...fields, id }));
    return pending;
  }

  /** A bare line to the hub: `""` leaves its password prompt. */
  raw(line: string): void {
    this.#input(line);
  }

  /** The request an event answers, if it carries an id still kept. */
  get(id: number | undefined): Pending | undefined {
    return id === undefined ? undefined : this.#pending.get(id);
  }
}
