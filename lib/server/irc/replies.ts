// The hub's `system` notes and `error`s as IRC reads them: the same error is 433 to a NICK,
// 405 to a JOIN and 482 to a TOPIC, by the context of the request it answers (requests.ts).
// What has no numeric is a server NOTICE. The other events are events.ts's.

import type { Context, Requests } from "./requests.ts";
import type { DoorState } from "./state.ts";
import type { IrcWire } from "./wire.ts";

/** What the replies work with; the door gives its own parts. */
export interface RepliesContext {
  state: DoorState;
  wire: IrcWire;
  requests: Requests;
}

/** `system` and `error` events to numerics or notices. */
export class Replies {
  readonly #ctx: RepliesContext;

  /** Replies through `ctx`. */
  constructor(ctx: RepliesContext) {
    this.#ctx = ctx;
  }

  /** A `system` note from the hub, answering a request made in `context` (if any). */
  system(text: string, context: Context | undefined): void {
    const { state, wire } = this.#ctx;
    switch (context?.kind) {
      case "say": {
        // A private message to someone away: `bob is away: REASON` is 301.
        const away = /^(\S+) is away: (.*)$/.exec(text);
        if (away && away[1].toLowerCase() === context.target.toLowerCase()) {
          if (!context.notice) wire.numeric("301", [away[1], away[2]]);
          return;
        }
        break;
      }
      case "switch":
      case "join":
        // `you are in #dev already`: a JOIN of (or TOPIC's switch to) the active room.
        return;
      case "away":
        wire.numeric("306", ["You have been marked as being away"]);
        return;
      case "back":
        wire.numeric("305", ["You are no longer marked as being away"]);
        return;
      case "op":
        if (/now an operator|operator already/.test(text)) {
          state.operator = true;
          wire.numeric("381", ["You are now an IRC operator"]);
          return;
        }
    }
    wire.notice(text);
  }

  /** An `error` from the hub, answering a request made in `context` (if any). */
  error(code: string, text: string, context: Context | undefined): void {
    const { wire, requests } = this.#ctx;
    switch (context?.kind) {
      case "say":
        if (context.notice) return;
        if (code === "unknown-user") wire.numeric("401", [context.target, text]);
        else if (code === "not-in-room" || code === "muted" || code === "room-invalid") {
          wire.numeric(context.target.startsWith("#") ? "404" : "401", [context.target, text]);
        } else wire.notice(text);
        return;
      case "nick":
        if (code === "name-taken") wire.numeric("433", [context.nick, text]);
        else if (code === "name-registered" || code === "wrong-password" || code === "locked-out") {
          wire.numeric("433", [context.nick, text]);
          // Leave the hub's password prompt: the name stays free to try again.
          requests.raw("");
        } else if (code === "flood" || code === "busy") wire.notice(text);
        else wire.numeric("432", [context.nick, text]);
        return;
      case "pass":
        wire.numeric("464", [text]);
        requests.send({ cmd: "quit", reason: "wrong password" }, { kind: "quit" });
        return;
      case "join":
        if (code === "too-many-rooms") wire.numeric("405", ["*", text]);
        else if (code === "room-invalid") wire.numeric("403", ["*", text]);
        else wire.notice(text);
        return;
      case "part":
        if (code === "not-in-room") wire.numeric("442", ["*", text]);
        else wire.notice(text);
        return;
      case "topic":
        if (code === "not-in-room") wire.numeric("442", [context.room, text]);
        else if (code === "muted" || code === "not-allowed") {
          wire.numeric("482", [context.room, text]);
        } else wire.notice(text);
        return;
      case "whois":
        if (code === "unknown-user" || code === "usage") {
          wire.numeric("401", [context.target, "No such nick"]);
          wire.numeric("318", [context.target, "End of /WHOIS list"]);
        } else wire.notice(text);
        return;
      case "exists":
        wire.numeric("403", [context.room, "No such channel"]);
        return;
      case "who":
      case "names":
        if (context.kind === "who") wire.numeric("315", [context.target, "End of WHO list"]);
        else wire.numeric("366", [context.target, "End of /NAMES list"]);
        return;
      case "kick":
        if (code === "not-allowed") {
          wire.numeric("481", ["Permission Denied- You're not an IRC operator"]);
        } else if (code === "unknown-user") wire.numeric("401", ["*", text]);
        else wire.notice(text);
        return;
      case "op":
        if (code === "wrong-password" || code === "locked-out") wire.numeric("464", [text]);
        else if (code === "not-allowed") wire.numeric("491", ["No O-lines for your host"]);
        else wire.notice(text);
        return;
    }
    wire.notice(text);
  }
}
