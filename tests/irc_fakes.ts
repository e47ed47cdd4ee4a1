// Test helper for the IRC door's parts, tested over plain data: a door's state, a wire keeping
// the IRC lines written (CRLF removed) and the requests sent to the hub, with no hub and no
// socket behind them.

import { Requests } from "../lib/server/irc/requests.ts";
import { type DoorState, newState } from "../lib/server/irc/state.ts";
import { IrcWire } from "../lib/server/irc/wire.ts";

/** The shared parts of one door, and what it has said to the client and to the hub. */
export interface FakeDoor {
  state: DoorState;
  wire: IrcWire;
  requests: Requests;
  /** IRC lines to the client, without CRLF. */
  lines: string[];
  /** Whether each line was a reply to the client's own. */
  replies: boolean[];
  /** Lines to the hub, as sent: JSON requests, or a bare "". */
  sent: string[];
}

/** A door's parts for a client registered as `nick` (undefined: not registered yet). */
export function fakeDoor(nick?: string): FakeDoor {
  const state = newState();
  if (nick !== undefined) {
    state.nick = nick;
    state.registered = true;
  }
  const lines: string[] = [];
  const replies: boolean[] = [];
  const sent: string[] = [];
  const wire = new IrcWire({
    serverName: "srv",
    state,
    write: (line, reply) => {
      lines.push(line.replace(/\r\n$/, ""));
      replies.push(reply);
    },
  });
  const requests = new Requests((line) => sent.push(line));
  return { state, wire, requests, lines, replies, sent };
}

/** The JSON requests sent to the hub (ids removed), bare lines as themselves. */
export function requested(door: FakeDoor): unknown[] {
  return door.sent.splice(0).map((line) => {
    if (!line.startsWith("{")) return line;
    const { id: _id, ...fields } = JSON.parse(line);
    return fields;
  });
}

/** The id the last request went with, for an event answering it. */
export function lastId(door: FakeDoor): number {
  return JSON.parse(door.sent.at(-1)!).id;
}
