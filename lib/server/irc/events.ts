// Events from the hub as IRC lines: messages as PRIVMSG, presence as JOIN/PART/QUIT/NICK, a
// room's names as 353/366 or WHO's 352, WHOIS, LIST, topics. An answer is read in the context
// of the request it carries the id of (requests.ts); `system` and `error` are replies.ts's.

import type { ServerEvent } from "../../protocol/events.ts";
import { IRC_HELD_EVENTS } from "../limits.ts";
import { IRC_LINE_BYTES, ircLine, splitBytes, utf8Bytes } from "./render.ts";
import { Replies } from "./replies.ts";
import type { Context, Requests } from "./requests.ts";
import { type DoorState, type IrcIdentities, me } from "./state.ts";
import { type IrcWire, source, USER_HOST } from "./wire.ts";

/** An event from the hub, with the id of the request it answers, if any. */
export type HubEvent = ServerEvent & { id?: number };

/** What the events work with; the door gives its own parts. */
export interface EventsContext {
  state: DoorState;
  wire: IrcWire;
  requests: Requests;
  /** Every IRC user's USER details, for WHO and WHOIS, kept up to date on a rename. */
  identities: IrcIdentities;
  /** The hub named the client for the first time (registration.ts's `named`). */
  named(): void;
  /** An answer to SASL's name or password (registration.ts's `sasl`). */
  sasl(event: ServerEvent, context: Context): void;
}

/** Hub events to one IRC client. */
export class Events {
  readonly #ctx: EventsContext;
  readonly #replies: Replies;

  /** Tells the client through `ctx`. */
  constructor(ctx: EventsContext) {
    this.#ctx = ctx;
    this.#replies = new Replies(ctx);
  }

  /** One event from the hub. */
  event(event: HubEvent): void {
    const { state, wire, requests } = this.#ctx;
    const pending = requests.get(event.id);
    const context = pending?.context;
    if (
      (context?.kind === "sasl" || context?.kind === "sasl-pass") &&
      (event.type === "named" || event.type === "error")
    ) {
      this.#ctx.sasl(event, context);
      return;
    }
    if (state.held) {
      state.held.push(event);
      if (state.held.length > IRC_HELD_EVENTS) {
        state.held = undefined;
        wire.send(ircLine(undefined, "ERROR", ["Closing link: registration not completed"]));
        requests.send({ cmd: "quit", reason: "registration not completed" }, { kind: "quit" });
      }
      return;
    }
    if (pending) pending.answered = true;
    const nick = me(state);
    switch (event.type) {
      case "mode":
        if (event.password) state.serverPassword = true;
        if (event.name !== null) state.nick = event.name;
        return;
      case "named":
        this.#named(event.name, event.previous);
        return;
      case "rename":
        wire.send(ircLine(source(event.from), "NICK", [event.to], undefined, false), false);
        return;
      case "motd":
        this.motd(event);
        return;
      case "message":
      case "action":
        wire.message(event.from, event.room, event.text, {
          action: event.type === "action",
          notice: event.type === "message" && event.notice,
          ts: event.ts,
          history: event.history,
        });
        return;
      case "private":
        wire.message(event.from, nick, event.text, { ts: event.ts, notice: event.notice });
        return;
      case "group":
        wire.message(event.from, nick, `[group to ${event.to.join(", ")}] ${event.text}`, {
          ts: event.ts,
        });
        return;
      case "sent":
      case "ok":
        if (context?.kind === "say" && state.caps.has("echo-message")) {
          wire.message(nick, context.target, context.text, {
            action: context.action,
            notice: context.notice,
            ts: event.ts,
          });
        }
        return;
      case "announce":
        wire.notice(`[server] ${event.text}`);
        return;
      case "join":
        wire.send(ircLine(source(event.name), "JOIN", [event.room], undefined, false), false);
        return;
      case "leave":
        if (event.name === state.nick) state.channels.delete(event.room);
        wire.send(
          ircLine(
            source(event.name),
            "PART",
            event.reason ? [event.room, event.reason] : [event.room],
            undefined,
            event.reason !== undefined,
          ),
          false,
        );
        return;
      case "quit":
        wire.send(ircLine(source(event.name), "QUIT", [event.reason ?? "Quit"]), false);
        return;
      case "room":
        if (!event.switched) {
          this.joined(event.room);
          if (event.topic) wire.numeric("332", [event.room, event.topic]);
          this.#namesReply(event.room, event.names, []);
        }
        return;
      case "users":
        this.#users(event, context);
        return;
      case "rooms":
        this.#rooms(event, context);
        return;
      case "topic":
        this.#topic(event, context);
        return;
      case "whois":
        this.#whois(event);
        return;
      case "system":
        this.#replies.system(event.text, context);
        return;
      case "help":
        for (const line of event.lines) wire.notice(line);
        return;
      case "error":
        this.#replies.error(event.code, event.text, context);
        return;
      case "bye":
        wire.send(ircLine(undefined, "ERROR", [`Closing link: ${event.reason}`]));
        return;
      case "prompt":
      case "welcome":
      case "history-end":
        return;
    }
  }

  /** Tells the client it is in `room`: a JOIN from itself. */
  joined(room: string): void {
    const { state, wire } = this.#ctx;
    state.channels.add(room);
    wire.send(ircLine(source(state.nick!), "JOIN", [room], undefined, false));
  }

  /** The message of the day: 375, a 372 per piece of a line, 376. */
  motd(event: Extract<ServerEvent, { type: "motd" }>): void {
    const { wire } = this.#ctx;
    wire.numeric("375", [`- ${wire.serverName} Message of the day -`]);
    for (const line of event.lines) {
      for (const piece of splitBytes(line, 400)) wire.numeric("372", [`- ${piece}`]);
    }
    wire.numeric("376", ["End of /MOTD command."]);
  }

  /** The client's first name completes registration; a later one is a NICK of its own. */
  #named(name: string, previous: string | undefined): void {
    const { state, wire, identities } = this.#ctx;
    state.nick = name;
    if (!state.registered) {
      this.#ctx.named();
    } else if (previous !== undefined) {
      identities.delete(previous);
      if (state.user) identities.set(name, state.user);
      wire.send(ircLine(source(previous), "NICK", [name], undefined, false));
    }
  }

  /** A room's members: TOPIC's 442 for a room the client is not in, WHO's 352s, or NAMES. */
  #users(event: Extract<ServerEvent, { type: "users" }>, context: Context | undefined): void {
    const { wire } = this.#ctx;
    if (context?.kind === "exists") {
      wire.numeric("442", [context.room, "You're not on that channel"]);
    } else if (context?.kind === "who") {
      for (const name of event.names) {
        if (context.match && !context.match.test(name)) continue;
        const away = event.away?.includes(name) ?? false;
        const op = event.operators?.includes(name) ?? false;
        this.#whoLine(event.room, name, away, op);
      }
      wire.numeric("315", [context.target, "End of WHO list"]);
    } else {
      this.#namesReply(event.room, event.names, event.operators ?? []);
    }
  }

  /** LIST: 321, a 322 per room (of those asked for), 323. */
  #rooms(event: Extract<ServerEvent, { type: "rooms" }>, context: Context | undefined): void {
    const { wire } = this.#ctx;
    wire.numeric("321", ["Channel", "Users  Name"]);
    for (const r of event.rooms) {
      if (context?.kind === "list" && context.only && !context.only.has(r.name.toLowerCase())) {
        continue;
      }
      wire.numeric("322", [r.name, String(r.members), r.topic ?? ""]);
    }
    wire.numeric("323", ["End of /LIST"]);
  }

  /** A topic changed (TOPIC from its setter), or asked for (332, or 331 when none). */
  #topic(event: Extract<ServerEvent, { type: "topic" }>, context: Context | undefined): void {
    const { wire } = this.#ctx;
    if (event.changed) {
      wire.send(
        ircLine(source(event.by ?? wire.serverName), "TOPIC", [event.room, event.topic ?? ""]),
        false,
      );
    } else if (event.topic) {
      wire.numeric("332", [event.room, event.topic]);
    } else if (!(context?.kind === "topic" && context.joining)) {
      wire.numeric("331", [event.room, "No topic is set"]);
    }
  }

  /** WHOIS: 311, 319, 312, 301 when away, 317, 318. */
  #whois(event: Extract<ServerEvent, { type: "whois" }>): void {
    const { wire } = this.#ctx;
    const [user, real] = this.#userOf(event.name);
    wire.numeric("311", [event.name, user, USER_HOST, "*", real]);
    if (event.rooms.length > 0) wire.numeric("319", [event.name, event.rooms.join(" ")]);
    wire.numeric("312", [event.name, wire.serverName, "linechat"]);
    if (event.away !== undefined) wire.numeric("301", [event.name, event.away]);
    wire.numeric("317", [
      event.name,
      String(event.idleSeconds),
      String(Math.floor(event.since / 1000)),
      "seconds idle, signon time",
    ]);
    wire.numeric("318", [event.name, "End of /WHOIS list"]);
  }

  /** 353 lines (as many names as fit each) and 366. */
  #namesReply(room: string, names: string[], operators: string[]): void {
    const { state, wire } = this.#ctx;
    const head = utf8Bytes(`:${wire.serverName} 353 ${me(state)} = ${room} :`);
    let line: string[] = [];
    let bytes = head;
    for (const name of names) {
      const full = state.caps.has("userhost-in-names") ? source(name) : name;
      const shown = operators.includes(name) ? `@${full}` : full;
      if (line.length > 0 && bytes + shown.length + 1 > IRC_LINE_BYTES) {
        wire.numeric("353", ["=", room, line.join(" ")]);
        line = [];
        bytes = head;
      }
      line.push(shown);
      bytes += shown.length + 1;
    }
    if (line.length > 0) wire.numeric("353", ["=", room, line.join(" ")]);
    wire.numeric("366", [room, "End of /NAMES list"]);
  }

  /** One WHO line (352). */
  #whoLine(room: string, name: string, away: boolean, op: boolean): void {
    const { wire } = this.#ctx;
    // `*` is a server operator; `@` their standing in a channel (linechat's operators are
    // the only ones), so not in a WHO of a nick (channel `*`).
    const flags = `${away ? "G" : "H"}${op ? "*" : ""}${op && room !== "*" ? "@" : ""}`;
    const [user, real] = this.#userOf(name);
    wire.numeric("352", [room, user, USER_HOST, wire.serverName, name, flags, `0 ${real}`]);
  }

  /** A user's user name and real name: an IRC user's from USER, the name for the others. */
  #userOf(name: string): [string, string] {
    const identity = this.#ctx.identities.get(name);
    return [identity?.user || name, identity?.real || name];
  }
}
