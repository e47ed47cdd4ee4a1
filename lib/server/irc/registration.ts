// Registration: PASS, NICK and USER (with CAP negotiation and SASL PLAIN on the way) until the
// hub gives the client its name, then the welcome (001-005, the motd, #lobby). The name,
// the passwords and the accounts are checked by the hub; this part only asks in IRC's order.

import type { ServerEvent } from "../../protocol/events.ts";
import { LOBBY } from "../../protocol/events.ts";
import { sanitize } from "../../protocol/sanitize.ts";
import { IRC_MAX_TARGETS, IRC_SASL_BYTES, IRC_TOPIC_BYTES } from "../limits.ts";
import { ircLine, splitBytes } from "./render.ts";
import type { Context, Requests } from "./requests.ts";
import { type DoorOptions, type DoorState, me } from "./state.ts";
import { type IrcWire, source } from "./wire.ts";

/** The IRCv3 capabilities the door offers. */
export const CAPS = [
  "server-time",
  "echo-message",
  "multi-prefix",
  "userhost-in-names",
  "sasl",
] as const;

/** What registration works with; the door gives its own parts. */
export interface RegistrationContext {
  options: Omit<DoorOptions, "rate" | "burst" | "noticeCost">;
  state: DoorState;
  wire: IrcWire;
  requests: Requests;
  /** Tells the client it is in `room` (JOIN). */
  joined(room: string): void;
  /** Sends the message of the day (375, 372, 376). */
  motd(event: Extract<ServerEvent, { type: "motd" }>): void;
  /** Handles an event the welcome held back. */
  event(event: ServerEvent): void;
}

/** One client's registration, and the commands it shares with a registered client. */
export class Registration {
  readonly #ctx: RegistrationContext;
  /** NICK's name, until the hub has been asked for it. */
  #wantedNick: string | undefined;
  #pass: string | undefined;
  #capNegotiating = false;
  /** The hub has been asked for the name. */
  #asked = false;
  /** The hub named this client (by SASL) before IRC registration was complete. */
  #named = false;
  /** SASL: `PLAIN` chosen and the base64 answer read so far, or undefined when none runs. */
  #sasl: string | undefined;
  /** PASS went to the hub as the server's password (once: a wrong one ends the connection). */
  #passSent = false;

  /** Registers through `ctx`. */
  constructor(ctx: RegistrationContext) {
    this.#ctx = ctx;
  }

  /**
   * The most a line before registration can cost in the hub's flood bucket. The line that
   * completes registration sends PASS, NICK (and a "" to leave a registered name's prompt),
   * then the welcome's TOPIC and NAMES; SASL a NICK, a PASS and maybe a "".
   */
  cost(command: string, params: string[]): number {
    const open = !this.#capNegotiating;
    const user = this.#ctx.state.user !== undefined;
    const completes = (command === "NICK" && user && open) ||
      (command === "USER" && this.#wantedNick !== undefined && open) ||
      (command === "CAP" && (params[0] ?? "").toUpperCase() === "END" && user &&
        this.#wantedNick !== undefined) ||
      command === "AUTHENTICATE";
    return completes ? 5 : 1;
  }

  /** A line before registration. */
  line(command: string, params: string[]): void {
    const { state, wire, requests } = this.#ctx;
    switch (command) {
      case "CAP":
        this.cap(params);
        return;
      case "PASS":
        if (params.length < 1) wire.numeric("461", ["PASS", "Not enough parameters"]);
        else this.#pass = params[0];
        return;
      case "NICK":
        if (!params[0]) {
          wire.numeric("431", ["No nickname given"]);
          return;
        }
        this.#wantedNick = params[0];
        this.#asked = false;
        this.#register();
        return;
      case "USER":
        if (params.length < 4 || params[0] === "" || params[3] === "") {
          wire.numeric("461", ["USER", "Not enough parameters"]);
          return;
        }
        state.user = {
          user: params[0].replace(/[^A-Za-z0-9_-]/g, "").slice(0, 10),
          real: splitBytes(sanitize(params[3]), 100)[0] ?? "",
        };
        this.#register();
        return;
      case "PING":
        this.ping(params);
        return;
      case "PONG":
        return;
      case "AUTHENTICATE":
        this.#authenticate(params[0] ?? "");
        return;
      case "QUIT":
        requests.send({ cmd: "quit", reason: params[0] || undefined }, { kind: "quit" });
        return;
      default:
        wire.numeric("451", ["You have not registered"]);
    }
  }

  /** CAP LS, LIST, REQ and END, before registration or after. */
  cap(params: string[]): void {
    const { state, wire } = this.#ctx;
    const serverName = wire.serverName;
    const sub = (params[0] ?? "").toUpperCase();
    switch (sub) {
      case "LS":
        if (!state.registered) this.#capNegotiating = true;
        wire.send(
          ircLine(serverName, "CAP", [
            me(state),
            "LS",
            CAPS.map((c) => c === "sasl" && params[1] === "302" ? "sasl=PLAIN" : c).join(" "),
          ]),
        );
        return;
      case "LIST":
        wire.send(ircLine(serverName, "CAP", [me(state), "LIST", [...state.caps].join(" ")]));
        return;
      case "REQ": {
        if (!state.registered) this.#capNegotiating = true;
        const asked = (params[1] ?? "").split(" ").filter((c) => c !== "");
        const known = asked.every((c) => (CAPS as readonly string[]).includes(c.replace(/^-/, "")));
        if (known && asked.length > 0) {
          for (const c of asked) {
            if (c.startsWith("-")) state.caps.delete(c.slice(1));
            else state.caps.add(c);
          }
        }
        const answer = known && asked.length > 0 ? "ACK" : "NAK";
        wire.send(ircLine(serverName, "CAP", [me(state), answer, params[1] ?? ""]));
        return;
      }
      case "END":
        if (state.registered) return;
        this.#capNegotiating = false;
        this.#register();
        return;
      default:
        wire.numeric("410", [params[0] ?? "*", "Invalid CAP command"]);
    }
  }

  /** PING, before registration or after: PONG. */
  ping(params: string[]): void {
    const { wire } = this.#ctx;
    if (params.length < 1 || params[0] === "") {
      wire.numeric("461", ["PING", "Not enough parameters"]);
      return;
    }
    wire.send(ircLine(wire.serverName, "PONG", [wire.serverName, params[0]]));
  }

  /**
   * The hub named this client for the first time (not by SASL): registered. The lobby's
   * history and the motd come right after, in this same turn, and are held for the welcome.
   */
  named(): void {
    const state = this.#ctx.state;
    state.registered = true;
    state.held = [];
    queueMicrotask(() => {
      const held = state.held ?? [];
      state.held = undefined;
      this.#welcome(held);
    });
  }

  /** SASL's outcome from the hub's answers to the name and its password. */
  sasl(event: ServerEvent, context: Context): void {
    const { state, wire, requests } = this.#ctx;
    if (event.type === "named") {
      state.nick = event.name;
      this.#named = true;
      state.held = [];
      if (context.kind === "sasl") {
        // The name is free and no account: taken as a plain name, but no login.
        wire.numeric("904", ["SASL authentication failed: not a registered name"]);
        return;
      }
      wire.numeric("900", [
        source(event.name),
        event.name,
        `You are now logged in as ${event.name}`,
      ]);
      wire.numeric("903", ["SASL authentication successful"]);
    } else if (event.type === "error") {
      if (context.kind === "sasl" && event.code === "name-registered") {
        requests.send({ cmd: "pass", password: context.password }, { kind: "sasl-pass" });
        return;
      }
      wire.numeric("904", ["SASL authentication failed"]);
      // Leave a password prompt: the name stays free to try again.
      if (context.kind === "sasl-pass") requests.raw("");
    }
  }

  /**
   * SASL PLAIN for a registered name: the hub is asked for the name, then (at its password
   * prompt) given the password, so the account is checked as a `/nick` would be.
   */
  #authenticate(arg: string): void {
    const { state, wire, requests } = this.#ctx;
    if (this.#named || !state.caps.has("sasl")) {
      wire.numeric(this.#named ? "907" : "904", ["SASL authentication failed"]);
      return;
    }
    if (arg === "*") {
      this.#sasl = undefined;
      wire.numeric("906", ["SASL authentication aborted"]);
      return;
    }
    if (this.#sasl === undefined) {
      if (arg.toUpperCase() !== "PLAIN") {
        wire.numeric("908", ["PLAIN", "are available SASL mechanisms"]);
        wire.numeric("904", ["SASL authentication failed"]);
        return;
      }
      this.#sasl = "";
      wire.send(ircLine(undefined, "AUTHENTICATE", ["+"], undefined, false));
      return;
    }
    if (arg !== "+") this.#sasl += arg;
    if (this.#sasl.length > IRC_SASL_BYTES) {
      this.#sasl = undefined;
      wire.numeric("905", ["SASL message too long"]);
      return;
    }
    if (arg.length === 400) return; // more chunks follow
    const answer = this.#sasl;
    this.#sasl = undefined;
    let fields: string[];
    try {
      fields = new TextDecoder("utf-8", { fatal: true }).decode(
        Uint8Array.from(atob(answer), (c) => c.charCodeAt(0)),
      ).split("\0");
    } catch {
      fields = [];
    }
    if (fields.length !== 3 || fields[1] === "" || fields[2] === "") {
      wire.numeric("904", ["SASL authentication failed"]);
      return;
    }
    if (state.serverPassword && !this.#passSent) {
      // The server's own password comes first (PASS, sent before CAP and SASL).
      if (this.#pass === undefined) {
        wire.numeric("904", ["SASL authentication failed: PASS first"]);
        return;
      }
      this.#passSent = true;
      requests.send({ cmd: "pass", password: this.#pass }, { kind: "pass" });
    }
    requests.send({ cmd: "nick", nick: fields[1] }, { kind: "sasl", password: fields[2] });
  }

  /** With NICK and USER in (and CAP negotiation over), asks the hub for the name. */
  #register(): void {
    const { state, wire, requests } = this.#ctx;
    if (state.registered || this.#asked || !state.user || this.#capNegotiating) return;
    if (this.#named) {
      // Named by SASL: registered under that name, whatever NICK said.
      state.registered = true;
      const held = state.held ?? [];
      state.held = undefined;
      this.#welcome(held);
      return;
    }
    const nick = this.#wantedNick;
    if (nick === undefined) return;
    this.#asked = true;
    if (state.serverPassword && !this.#passSent) {
      if (this.#pass === undefined) {
        wire.numeric("464", ["Password required"]);
        requests.send({ cmd: "quit", reason: "no password" }, { kind: "quit" });
        return;
      }
      // The name waits behind the check; a wrong password ends the connection.
      this.#passSent = true;
      requests.send({ cmd: "pass", password: this.#pass }, { kind: "pass" });
    }
    const password = state.serverPassword ? undefined : this.#pass;
    requests.send(
      { cmd: "nick", nick, ...(password === undefined ? {} : { password }) },
      { kind: "nick", nick },
    );
  }

  /** The hub named this client for the first time: 001-005, the motd, then #lobby. */
  #welcome(events: ServerEvent[]): void {
    const { options, state, wire, requests } = this.#ctx;
    const { serverName, version, started } = options;
    const nick = state.nick!;
    const v = `linechat-${version}`;
    if (state.user) options.identities.set(nick, state.user);
    wire.numeric("001", [`Welcome to the linechat IRC door, ${nick}`]);
    wire.numeric("002", [`Your host is ${serverName}, running version ${v}`]);
    wire.numeric("003", [`This server was started ${started.toISOString()}`]);
    wire.numeric("004", [serverName, v, "o", "o"]);
    wire.numeric("005", [...this.#isupport(), "are supported by this server"]);
    const motdAt = events.findIndex((e) => e.type === "motd");
    if (motdAt >= 0) {
      this.#ctx.motd(events[motdAt] as Extract<ServerEvent, { type: "motd" }>);
      events.splice(motdAt, 1);
    } else {
      wire.numeric("422", ["MOTD File is missing"]);
    }
    // Everyone starts in #lobby: the client is told it joined, with the names and topic.
    this.#ctx.joined(LOBBY);
    requests.send({ cmd: "topic" }, { kind: "topic", room: LOBBY, query: true, joining: true });
    requests.send({ cmd: "users", room: LOBBY }, { kind: "names", target: LOBBY });
    for (const e of events) this.#ctx.event(e);
  }

  /** 005's tokens. */
  #isupport(): string[] {
    const { maxNameLength, maxRoomsPerUser } = this.#ctx.options;
    return [
      "CASEMAPPING=ascii",
      "CHANTYPES=#",
      `CHANLIMIT=#:${maxRoomsPerUser}`,
      `CHANNELLEN=${maxNameLength + 1}`,
      `NICKLEN=${maxNameLength}`,
      `TOPICLEN=${IRC_TOPIC_BYTES}`,
      "PREFIX=(o)@",
      "CHANMODES=,,,",
      `MAXTARGETS=${IRC_MAX_TARGETS}`,
      "NETWORK=linechat",
      "UTF8ONLY",
    ];
  }
}
