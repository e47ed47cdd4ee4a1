// IRC commands after registration: each becomes JSON requests to the hub (PRIVMSG a `say` or
// a `pm`, JOIN a `join` per channel, WHO a `users`), with the context its answers are read in.
// What the hub answers is events.ts's; CAP and PING are registration.ts's.

import { IRC_MAX_TARGETS, IRC_TOPIC_BYTES } from "../limits.ts";
import { ctcpAction, isCtcp } from "./parse.ts";
import { splitBytes } from "./render.ts";
import type { Context, Requests } from "./requests.ts";
import type { DoorState } from "./state.ts";
import type { IrcWire } from "./wire.ts";

/** linechat's operator commands beside KICK, sent raw (`/quote BAN bob 1h spam`). */
type Sanction = "ban" | "mute" | "unban" | "unmute";

/** What the commands work with; the door gives its own parts. */
export interface CommandsContext {
  state: DoorState;
  wire: IrcWire;
  requests: Requests;
  /** CAP, as during registration. */
  cap(params: string[]): void;
  /** PING: PONG. */
  ping(params: string[]): void;
}

/** A registered client's commands. */
export class Commands {
  readonly #ctx: CommandsContext;

  /** Handles commands through `ctx`. */
  constructor(ctx: CommandsContext) {
    this.#ctx = ctx;
  }

  /** One line from a registered client, parsed. */
  command(command: string, params: string[]): void {
    const { wire, requests } = this.#ctx;
    switch (command) {
      case "PRIVMSG":
      case "NOTICE":
        this.#privmsg(params, command === "NOTICE");
        return;
      case "JOIN":
        this.#join(params);
        return;
      case "PART":
        this.#part(params);
        return;
      case "TOPIC":
        this.#topic(params);
        return;
      case "NAMES":
        this.#names(params);
        return;
      case "LIST":
        requests.send({ cmd: "rooms" }, {
          kind: "list",
          only: params[0]?.startsWith("#")
            ? new Set(params[0].toLowerCase().split(",").slice(0, IRC_MAX_TARGETS))
            : undefined,
        });
        return;
      case "WHO":
        this.#who(params);
        return;
      case "WHOIS":
        this.#whois(params);
        return;
      case "NICK":
        if (!params[0]) wire.numeric("431", ["No nickname given"]);
        else requests.send({ cmd: "nick", nick: params[0] }, { kind: "nick", nick: params[0] });
        return;
      case "AWAY":
        if (params[0]) requests.send({ cmd: "away", reason: params[0] }, { kind: "away" });
        else requests.send({ cmd: "back" }, { kind: "back" });
        return;
      case "QUIT":
        requests.send({ cmd: "quit", reason: params[0] || undefined }, { kind: "quit" });
        return;
      case "PING":
        this.#ctx.ping(params);
        return;
      case "PONG":
        return;
      case "MOTD": {
        const pending = requests.send({ cmd: "motd" }, { kind: "motd" });
        if (!pending.answered) wire.numeric("422", ["MOTD File is missing"]);
        return;
      }
      case "MODE":
        this.#mode(params);
        return;
      case "KICK":
        if (params.length < 2) wire.numeric("461", ["KICK", "Not enough parameters"]);
        else {
          requests.send(
            { cmd: "kick", user: params[1], reason: params[2] || undefined },
            { kind: "kick" },
          );
        }
        return;
      case "BAN":
      case "MUTE":
      case "UNBAN":
      case "UNMUTE":
        this.#sanction(command.toLowerCase() as Sanction, params);
        return;
      case "OPER":
        if (params.length < 2) wire.numeric("461", ["OPER", "Not enough parameters"]);
        else requests.send({ cmd: "op", password: params[1] }, { kind: "op" });
        return;
      case "CAP":
        this.#ctx.cap(params);
        return;
      case "USER":
      case "PASS":
        wire.numeric("462", ["You may not reregister"]);
        return;
      default:
        wire.numeric("421", [command, "Unknown command"]);
    }
  }

  /**
   * linechat's operator commands, sent raw (`/quote BAN bob 1h spam`): BAN and MUTE take a
   * target, a duration when the next word is one, and a reason; UNBAN and UNMUTE a target.
   */
  #sanction(cmd: Sanction, params: string[]): void {
    const { wire, requests } = this.#ctx;
    const [target, ...rest] = params.join(" ").split(" ").filter((w) => w !== "");
    if (!target) {
      wire.numeric("461", [cmd.toUpperCase(), "Not enough parameters"]);
      return;
    }
    if (cmd === "unban" || cmd === "unmute") {
      requests.send({ cmd, target }, { kind: "kick" });
      return;
    }
    const duration = /^\d+[smhd]$/.test(rest[0] ?? "") ? rest.shift() : undefined;
    const reason = rest.join(" ") || undefined;
    requests.send({ cmd, target, duration, reason }, { kind: "kick" });
  }

  #privmsg(params: string[], notice: boolean): void {
    const { state, wire, requests } = this.#ctx;
    const command = notice ? "NOTICE" : "PRIVMSG";
    if (params.length < 1 || params[0] === "") {
      if (!notice) wire.numeric("411", [`No recipient given (${command})`]);
      return;
    }
    const text = params[1] ?? "";
    if (text === "") {
      if (!notice) wire.numeric("412", ["No text to send"]);
      return;
    }
    const action = ctcpAction(text);
    // Other CTCP (VERSION, PING, replies) means nothing to the other kinds of client.
    if (action === undefined && isCtcp(text)) return;
    const body = action ?? text;
    for (const target of params[0].split(",").slice(0, IRC_MAX_TARGETS)) {
      if (target === "") continue;
      const context: Context = {
        kind: "say",
        target,
        text: body,
        action: action !== undefined,
        notice,
      };
      if (target.startsWith("#")) {
        requests.send(
          action === undefined
            ? { cmd: "say", room: target, text: body, ...(notice && { notice: true }) }
            : { cmd: "me", room: target, text: body },
          context,
        );
      } else {
        // A private action reads as one: `* alice waves`.
        const pm = action === undefined ? body : `* ${state.nick} ${body}`;
        requests.send(
          { cmd: "pm", to: target, text: pm, ...(notice && { notice: true }) },
          context,
        );
      }
    }
  }

  #join(params: string[]): void {
    const { state, wire, requests } = this.#ctx;
    if (params.length < 1 || params[0] === "") {
      wire.numeric("461", ["JOIN", "Not enough parameters"]);
      return;
    }
    if (params[0] === "0") {
      for (const room of [...state.channels]) {
        requests.send({ cmd: "part", room }, { kind: "part" });
      }
      return;
    }
    for (const room of params[0].split(",").slice(0, IRC_MAX_TARGETS)) {
      if (!room.startsWith("#")) {
        wire.numeric("403", [room || "*", "No such channel"]);
        continue;
      }
      requests.send({ cmd: "join", room }, { kind: "join" });
    }
  }

  #part(params: string[]): void {
    const { wire, requests } = this.#ctx;
    if (params.length < 1 || params[0] === "") {
      wire.numeric("461", ["PART", "Not enough parameters"]);
      return;
    }
    for (const room of params[0].split(",").slice(0, IRC_MAX_TARGETS)) {
      if (!this.#in(room)) {
        wire.numeric(room.startsWith("#") ? "442" : "403", [
          room || "*",
          "You're not on that channel",
        ]);
        continue;
      }
      requests.send({ cmd: "part", room, reason: params[1] || undefined }, { kind: "part" });
    }
  }

  /** The channel `room` names if the client is in it (compared as the hub does: case aside). */
  #in(room: string): string | undefined {
    const key = room.toLowerCase();
    for (const c of this.#ctx.state.channels) if (c.toLowerCase() === key) return c;
    return undefined;
  }

  #topic(params: string[]): void {
    const { wire, requests } = this.#ctx;
    if (params.length < 1) {
      wire.numeric("461", ["TOPIC", "Not enough parameters"]);
      return;
    }
    const room = this.#in(params[0]);
    if (!room) {
      if (params[0].startsWith("#")) {
        requests.send({ cmd: "users", room: params[0] }, { kind: "exists", room: params[0] });
      } else wire.numeric("403", [params[0], "No such channel"]);
      return;
    }
    // /topic acts on the active room: switch to it first (nobody else is told of a switch).
    requests.send({ cmd: "join", room }, { kind: "switch" });
    if (params.length < 2) {
      requests.send({ cmd: "topic" }, { kind: "topic", room, query: true });
    } else if (params[1] === "") {
      requests.send({ cmd: "topic", remove: true }, { kind: "topic", room, query: false });
    } else {
      const text = splitBytes(params[1], IRC_TOPIC_BYTES)[0];
      requests.send({ cmd: "topic", text }, { kind: "topic", room, query: false });
    }
  }

  #names(params: string[]): void {
    const { wire, requests } = this.#ctx;
    if (!params[0]) {
      wire.numeric("366", ["*", "End of /NAMES list"]);
      return;
    }
    for (const room of params[0].split(",").slice(0, IRC_MAX_TARGETS)) {
      if (!room.startsWith("#")) {
        wire.numeric("366", [room || "*", "End of /NAMES list"]);
        continue;
      }
      requests.send({ cmd: "users", room }, { kind: "names", target: room });
    }
  }

  #who(params: string[]): void {
    const { requests } = this.#ctx;
    const mask = params[0] ?? "*";
    if (mask.startsWith("#")) {
      requests.send({ cmd: "users", room: mask }, { kind: "who", target: mask });
    } else {
      const glob = mask === "0" ? "*" : mask;
      const pattern = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")
        .replaceAll("?", ".");
      const match = new RegExp(`^${pattern}$`, "i");
      requests.send({ cmd: "users", everyone: true }, { kind: "who", target: mask, match });
    }
  }

  #whois(params: string[]): void {
    const { wire, requests } = this.#ctx;
    const target = params[params.length - 1];
    if (!target) {
      wire.numeric("431", ["No nickname given"]);
      return;
    }
    requests.send({ cmd: "whois", user: target.split(",")[0] }, { kind: "whois", target });
  }

  #mode(params: string[]): void {
    const { state, wire } = this.#ctx;
    const target = params[0];
    if (!target) {
      wire.numeric("461", ["MODE", "Not enough parameters"]);
      return;
    }
    if (target.startsWith("#")) {
      const room = this.#in(target) ?? target;
      if (params.length < 2) {
        wire.numeric("324", [room, "+"]);
      } else if (/^[+-]?b$/.test(params[1]) && params.length === 2) {
        wire.numeric("368", [room, "End of channel ban list"]);
      } else {
        wire.numeric("482", [room, "Channel modes cannot be changed here"]);
      }
      return;
    }
    if (target.toLowerCase() !== state.nick!.toLowerCase()) {
      wire.numeric("502", ["Can't change mode for other users"]);
      return;
    }
    // Setting a user mode (irssi's +i) changes nothing: there are none to set.
    if (params.length < 2) wire.numeric("221", [state.operator ? "+o" : "+"]);
  }
}
