// The IRC door: one IRC connection as a hub client in JSON mode. IRC lines from the client
// become JSON requests for Hub.input; the hub's JSON events come back as IRC lines and
// numerics. The chat (names, rooms, mutes, bans, passwords, flood) stays the hub's: the door
// keeps only what IRC needs (registration, capabilities, the channels joined).

import type { FramerSink } from "../../protocol/framing.ts";
import { LOBBY, type ServerEvent } from "../../protocol/events.ts";
import { sanitize } from "../../protocol/sanitize.ts";
import { TokenBucket } from "../../protocol/token_bucket.ts";
import type { Client, Hub, Peer } from "../hub.ts";
import {
  IRC_CONTEXTS_KEPT,
  IRC_HELD_EVENTS,
  IRC_MAX_TARGETS,
  IRC_QUEUED_LINES,
  IRC_SASL_BYTES,
  IRC_TOPIC_BYTES,
} from "../limits.ts";
import { ctcpAction, isCtcp, parseIrc } from "./parse.ts";
import { IRC_LINE_BYTES, ircLine, splitBytes, timeTag, utf8Bytes } from "./render.ts";

/** The IRCv3 capabilities the door offers. */
export const CAPS = [
  "server-time",
  "echo-message",
  "multi-prefix",
  "userhost-in-names",
  "sasl",
] as const;

/** The host part every user's `nick!nick@host` shows: addresses are for operators only. */
export const USER_HOST = "linechat";

/** Stands in the queue for a line that was too long. */
const OVERLONG = Symbol("overlong");

/** A user name and real name an IRC client gave with USER. */
export interface IrcIdentity {
  user: string;
  real: string;
}

/**
 * The USER details of everyone connected through the door, by name (ASCII case ignored), so
 * WHO and WHOIS show them to other IRC users. Other kinds of client have none: their name.
 */
export class IrcIdentities {
  readonly #byName = new Map<string, IrcIdentity>();

  get(name: string): IrcIdentity | undefined {
    return this.#byName.get(name.toLowerCase());
  }

  set(name: string, identity: IrcIdentity): void {
    this.#byName.set(name.toLowerCase(), identity);
  }

  delete(name: string): void {
    this.#byName.delete(name.toLowerCase());
  }
}

/** What the door needs to know of the server. */
export interface DoorOptions {
  /** Every IRC user's USER details, shared by all doors of a server. */
  identities: IrcIdentities;
  /** The server name the door uses as its source (`--irc-name`). */
  serverName: string;
  version: string;
  /** When the server started, for 003. */
  started: Date;
  maxNameLength: number;
  maxRoomsPerUser: number;
  /** The hub's flood control: lines a second after a burst (rate 0: none). */
  rate: number;
  burst: number;
  /** What a join, part, rename or topic costs of the flood allowance, as in the hub. */
  noticeCost: number;
}

/** What a request to the hub was for: how its answers read in IRC. */
type Context =
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
interface Pending {
  context: Context;
  answered: boolean;
}

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * One IRC connection: the hub's Peer (it takes the hub's JSON events) and the session's
 * FramerSink (it takes the client's IRC lines).
 */
export class IrcDoor implements Peer, FramerSink {
  readonly address: string;
  readonly #wire: Peer;
  readonly #opts: DoorOptions;
  #hub: Hub | undefined;
  #client: Client | undefined;
  /** The name the hub knows this client by, once it has one. */
  #nick: string | undefined;
  /** Registration: what the client gave so far. */
  #wantedNick: string | undefined;
  /** USER's user name and real name, shown back only to this client (WHOIS, WHO). */
  #user: IrcIdentity | undefined;
  #pass: string | undefined;
  #capNegotiating = false;
  #registered = false;
  #asked = false;
  /** The hub named this client (by SASL) before IRC registration was complete. */
  #named = false;
  /** SASL: `PLAIN` chosen and the base64 answer read so far, or undefined when none runs. */
  #sasl: string | undefined;
  /** The server asks for its password first (the `mode` event said so). */
  #serverPassword = false;
  /** PASS went to the hub as the server's password (once: a wrong one ends the connection). */
  #passSent = false;
  readonly #caps = new Set<string>();
  /** Channels this client is in, as the hub spells them. */
  readonly #channels = new Set<string>();
  readonly #pending = new Map<number, Pending>();
  #seq = 0;
  /** Events held while the welcome is being sent (the lobby's history comes after it). */
  #held: ServerEvent[] | undefined;
  #operator = false;
  /**
   * Flood control that delays rather than drops: the hub's own bucket, mirrored. Each line
   * waits until this bucket holds what handling it can cost in the hub at most, so the hub
   * never drops an IRC client's line; absent when flood control is off.
   */
  readonly #bucket: TokenBucket | undefined;
  /** Lines waiting for the bucket, in order; at most {@link IRC_QUEUED_LINES}. */
  readonly #queue: (string | typeof OVERLONG)[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(wire: Peer, options: DoorOptions) {
    this.#wire = wire;
    this.address = wire.address;
    this.#opts = options;
    this.#bucket = options.rate > 0
      ? new TokenBucket(options.rate, options.burst, Date.now())
      : undefined;
  }

  /** Binds the door to its hub client and puts that client in JSON mode. */
  start(hub: Hub, client: Client): void {
    this.#hub = hub;
    this.#client = client;
    this.#bucket?.take(Date.now());
    hub.input(client, "/proto json");
  }

  // --- Peer: events from the hub -------------------------------------------------

  write(bytes: Uint8Array): void {
    const text = decoder.decode(bytes);
    // The welcome and the name prompt come as text before JSON mode starts.
    if (!text.startsWith("{")) return;
    let event: ServerEvent & { id?: number };
    try {
      event = JSON.parse(text);
    } catch {
      return;
    }
    this.#event(event);
  }

  close(reason?: string): void {
    this.#wire.close(reason);
  }

  // --- FramerSink: lines from the IRC client ---------------------------------------

  line(text: string | typeof OVERLONG): void {
    if (this.#client?.closing !== false) return;
    if (this.#queue.length >= IRC_QUEUED_LINES) {
      this.#send(ircLine(undefined, "ERROR", ["Closing link: Excess Flood"]));
      this.#wire.close("flooding");
      return;
    }
    this.#queue.push(text);
    if (this.#queue.length === 1) this.#drain();
  }

  overlong(): void {
    this.line(OVERLONG);
  }

  /** Handles the waiting lines the bucket allows; waits for it to refill for the rest. */
  #drain(): void {
    this.#timer = undefined;
    while (this.#queue.length > 0 && this.#client?.closing === false) {
      const text = this.#queue[0];
      const { command, params } = parseIrc(text === OVERLONG ? "" : text);
      // A cost past the burst could never be paid: JOIN 0 in many rooms waits for a full one.
      const cost = Math.min(this.#cost(command, params), this.#opts.burst);
      if (this.#bucket && !this.#bucket.take(Date.now(), cost)) {
        const ms = Math.ceil((cost * 1000) / this.#bucket.rate);
        this.#timer = setTimeout(() => this.#drain(), Math.min(ms, 1000));
        return;
      }
      this.#queue.shift();
      this.#handle(text, command, params);
    }
    this.#queue.length = 0;
  }

  /**
   * The most a line can cost in the hub's flood bucket: one per request it makes, and
   * `noticeCost` for a request others are told of (a join, a part, a rename, a topic).
   */
  #cost(command: string, params: string[]): number {
    const notice = this.#opts.noticeCost;
    const targets = Math.min(IRC_MAX_TARGETS, (params[0] ?? "").split(",").length);
    if (!this.#registered) {
      // The line that completes registration sends PASS, NICK (and a "" to leave a
      // registered name's prompt), then the welcome's TOPIC and NAMES; SASL a NICK, a PASS
      // and maybe a "".
      const open = !this.#capNegotiating;
      const completes = (command === "NICK" && this.#user !== undefined && open) ||
        (command === "USER" && this.#wantedNick !== undefined && open) ||
        (command === "CAP" && (params[0] ?? "").toUpperCase() === "END" &&
          this.#user !== undefined && this.#wantedNick !== undefined) ||
        command === "AUTHENTICATE";
      return completes ? 5 : 1;
    }
    switch (command) {
      case "JOIN":
        return notice * (params[0] === "0" ? Math.max(1, this.#channels.size) : targets);
      case "PART":
        return notice * targets;
      case "NICK":
        return notice + 1;
      case "TOPIC":
        return 1 + notice;
      case "PRIVMSG":
      case "NOTICE":
      case "NAMES":
        return targets;
      default:
        return 1;
    }
  }

  #handle(text: string | typeof OVERLONG, command: string, params: string[]): void {
    if (text === OVERLONG) {
      this.#numeric("417", ["Input line was too long"]);
      return;
    }
    if (command === "") return;
    if (text.includes("\uFFFD")) {
      // Not UTF-8 (the framer put U+FFFD for the bad bytes): refused, as UTF8ONLY says.
      this.#send(
        ircLine(this.#opts.serverName, "FAIL", [
          command,
          "INVALID_UTF8",
          "Message rejected: use UTF-8",
        ]),
      );
      return;
    }
    if (!this.#registered) {
      this.#beforeRegistration(command, params);
      return;
    }
    this.#command(command, params);
  }

  // --- sending -------------------------------------------------------------------

  get #me(): string {
    return this.#registered ? this.#nick! : "*";
  }

  #send(line: string, reply = true): void {
    this.#wire.write(encoder.encode(line), reply);
  }

  /** A numeric reply to this client: `:server NNN nick params...`. */
  #numeric(code: string, params: string[]): void {
    this.#send(ircLine(this.#opts.serverName, code, [this.#me, ...params]));
  }

  #notice(text: string): void {
    for (const piece of splitBytes(text, 400)) {
      this.#send(ircLine(this.#opts.serverName, "NOTICE", [this.#me, piece]));
    }
  }

  /** `:nick!nick@host` for a user. */
  #source(nick: string): string {
    return `${nick}!${nick}@${USER_HOST}`;
  }

  /** A PRIVMSG (or NOTICE) split into lines that fit, each with its time when asked for. */
  #message(
    from: string,
    target: string,
    text: string,
    options: { action?: boolean; ts?: number; history?: boolean; notice?: boolean } = {},
  ): void {
    const source = this.#source(from);
    const command = options.notice ? "NOTICE" : "PRIVMSG";
    const tags = this.#caps.has("server-time") && options.ts !== undefined
      ? timeTag(options.ts)
      : undefined;
    if (options.history && !tags && options.ts !== undefined) {
      text = `[${new Date(options.ts).toISOString().slice(11, 16)}] ${text}`;
    }
    const overhead = utf8Bytes(`:${source} ${command} ${target} :`) + (options.action ? 9 : 0);
    for (const piece of splitBytes(text, IRC_LINE_BYTES - overhead)) {
      const body = options.action ? `\x01ACTION ${piece}\x01` : piece;
      this.#send(ircLine(source, command, [target, body], tags), false);
    }
  }

  /** Sends a JSON request to the hub; its answers are read in `context`. */
  #request(fields: Record<string, unknown>, context: Context): Pending {
    const id = ++this.#seq;
    const pending = { context, answered: false };
    this.#pending.set(id, pending);
    if (this.#pending.size > IRC_CONTEXTS_KEPT) {
      this.#pending.delete(this.#pending.keys().next().value!);
    }
    this.#hub!.input(this.#client!, JSON.stringify({ ...fields, id }));
    return pending;
  }

  // --- registration --------------------------------------------------------------

  #beforeRegistration(command: string, params: string[]): void {
    switch (command) {
      case "CAP":
        this.#cap(params);
        return;
      case "PASS":
        if (params.length < 1) this.#numeric("461", ["PASS", "Not enough parameters"]);
        else this.#pass = params[0];
        return;
      case "NICK":
        if (!params[0]) {
          this.#numeric("431", ["No nickname given"]);
          return;
        }
        this.#wantedNick = params[0];
        this.#asked = false;
        this.#register();
        return;
      case "USER":
        if (params.length < 4 || params[0] === "" || params[3] === "") {
          this.#numeric("461", ["USER", "Not enough parameters"]);
          return;
        }
        this.#user = {
          user: params[0].replace(/[^A-Za-z0-9_-]/g, "").slice(0, 10),
          real: splitBytes(sanitize(params[3]), 100)[0] ?? "",
        };
        this.#register();
        return;
      case "PING":
        this.#ping(params);
        return;
      case "PONG":
        return;
      case "AUTHENTICATE":
        this.#authenticate(params[0] ?? "");
        return;
      case "QUIT":
        this.#request({ cmd: "quit", reason: params[0] || undefined }, { kind: "quit" });
        return;
      default:
        this.#numeric("451", ["You have not registered"]);
    }
  }

  #cap(params: string[]): void {
    const sub = (params[0] ?? "").toUpperCase();
    switch (sub) {
      case "LS":
        if (!this.#registered) this.#capNegotiating = true;
        this.#send(
          ircLine(this.#opts.serverName, "CAP", [
            this.#me,
            "LS",
            CAPS.map((c) => c === "sasl" && params[1] === "302" ? "sasl=PLAIN" : c).join(" "),
          ]),
        );
        return;
      case "LIST":
        this.#send(
          ircLine(this.#opts.serverName, "CAP", [this.#me, "LIST", [...this.#caps].join(" ")]),
        );
        return;
      case "REQ": {
        if (!this.#registered) this.#capNegotiating = true;
        const asked = (params[1] ?? "").split(" ").filter((c) => c !== "");
        const known = asked.every((c) => (CAPS as readonly string[]).includes(c.replace(/^-/, "")));
        if (known && asked.length > 0) {
          for (const c of asked) {
            if (c.startsWith("-")) this.#caps.delete(c.slice(1));
            else this.#caps.add(c);
          }
        }
        const answer = known && asked.length > 0 ? "ACK" : "NAK";
        this.#send(ircLine(this.#opts.serverName, "CAP", [this.#me, answer, params[1] ?? ""]));
        return;
      }
      case "END":
        if (this.#registered) return;
        this.#capNegotiating = false;
        this.#register();
        return;
      default:
        this.#numeric("410", [params[0] ?? "*", "Invalid CAP command"]);
    }
  }

  /**
   * SASL PLAIN for a registered name: the hub is asked for the name, then (at its password
   * prompt) given the password, so the account is checked as a `/nick` would be.
   */
  #authenticate(arg: string): void {
    if (this.#named || !this.#caps.has("sasl")) {
      this.#numeric(this.#named ? "907" : "904", ["SASL authentication failed"]);
      return;
    }
    if (arg === "*") {
      this.#sasl = undefined;
      this.#numeric("906", ["SASL authentication aborted"]);
      return;
    }
    if (this.#sasl === undefined) {
      if (arg.toUpperCase() !== "PLAIN") {
        this.#numeric("908", ["PLAIN", "are available SASL mechanisms"]);
        this.#numeric("904", ["SASL authentication failed"]);
        return;
      }
      this.#sasl = "";
      this.#send(ircLine(undefined, "AUTHENTICATE", ["+"], undefined, false));
      return;
    }
    if (arg !== "+") this.#sasl += arg;
    if (this.#sasl.length > IRC_SASL_BYTES) {
      this.#sasl = undefined;
      this.#numeric("905", ["SASL message too long"]);
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
      this.#numeric("904", ["SASL authentication failed"]);
      return;
    }
    if (this.#serverPassword && !this.#passSent) {
      // The server's own password comes first (PASS, sent before CAP and SASL).
      if (this.#pass === undefined) {
        this.#numeric("904", ["SASL authentication failed: PASS first"]);
        return;
      }
      this.#passSent = true;
      this.#request({ cmd: "pass", password: this.#pass }, { kind: "pass" });
    }
    this.#request({ cmd: "nick", nick: fields[1] }, { kind: "sasl", password: fields[2] });
  }

  /** SASL's outcome from the hub's answers to the name and its password. */
  #saslEvent(event: ServerEvent, context: Context): void {
    if (event.type === "named") {
      this.#nick = event.name;
      this.#named = true;
      this.#held = [];
      if (context.kind === "sasl") {
        // The name is free and no account: taken as a plain name, but no login.
        this.#numeric("904", ["SASL authentication failed: not a registered name"]);
        return;
      }
      const source = `${event.name}!${event.name}@${USER_HOST}`;
      this.#numeric("900", [source, event.name, `You are now logged in as ${event.name}`]);
      this.#numeric("903", ["SASL authentication successful"]);
    } else if (event.type === "error") {
      if (context.kind === "sasl" && event.code === "name-registered") {
        this.#request({ cmd: "pass", password: context.password }, { kind: "sasl-pass" });
        return;
      }
      this.#numeric("904", ["SASL authentication failed"]);
      // Leave a password prompt: the name stays free to try again.
      if (context.kind === "sasl-pass") this.#hub!.input(this.#client!, "");
    }
  }

  /** With NICK and USER in (and CAP negotiation over), asks the hub for the name. */
  #register(): void {
    if (this.#registered || this.#asked || !this.#user || this.#capNegotiating) return;
    if (this.#named) {
      // Named by SASL: registered under that name, whatever NICK said.
      this.#registered = true;
      const held = this.#held ?? [];
      this.#held = undefined;
      this.#welcome(held);
      return;
    }
    const nick = this.#wantedNick;
    if (nick === undefined) return;
    this.#asked = true;
    if (this.#serverPassword && !this.#passSent) {
      if (this.#pass === undefined) {
        this.#numeric("464", ["Password required"]);
        this.#request({ cmd: "quit", reason: "no password" }, { kind: "quit" });
        return;
      }
      // The name waits behind the check; a wrong password ends the connection.
      this.#passSent = true;
      this.#request({ cmd: "pass", password: this.#pass }, { kind: "pass" });
    }
    const password = this.#serverPassword ? undefined : this.#pass;
    this.#request(
      { cmd: "nick", nick, ...(password === undefined ? {} : { password }) },
      { kind: "nick", nick },
    );
  }

  /** The hub named this client for the first time: 001-005, the motd, then #lobby. */
  #welcome(events: ServerEvent[]): void {
    const { serverName, version, started } = this.#opts;
    const nick = this.#nick!;
    const v = `linechat-${version}`;
    if (this.#user) this.#opts.identities.set(nick, this.#user);
    this.#numeric("001", [`Welcome to the linechat IRC door, ${nick}`]);
    this.#numeric("002", [`Your host is ${serverName}, running version ${v}`]);
    this.#numeric("003", [`This server was started ${started.toISOString()}`]);
    this.#numeric("004", [serverName, v, "o", "o"]);
    this.#numeric("005", [...this.#isupport(), "are supported by this server"]);
    const motdAt = events.findIndex((e) => e.type === "motd");
    if (motdAt >= 0) {
      this.#motd(events[motdAt] as Extract<ServerEvent, { type: "motd" }>);
      events.splice(motdAt, 1);
    } else {
      this.#numeric("422", ["MOTD File is missing"]);
    }
    // Everyone starts in #lobby: the client is told it joined, with the names and topic.
    this.#joined(LOBBY);
    this.#request({ cmd: "topic" }, { kind: "topic", room: LOBBY, query: true, joining: true });
    this.#request({ cmd: "users", room: LOBBY }, { kind: "names", target: LOBBY });
    for (const e of events) this.#event(e);
  }

  #isupport(): string[] {
    const { maxNameLength, maxRoomsPerUser } = this.#opts;
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

  #motd(event: Extract<ServerEvent, { type: "motd" }>): void {
    this.#numeric("375", [`- ${this.#opts.serverName} Message of the day -`]);
    for (const line of event.lines) {
      for (const piece of splitBytes(line, 400)) this.#numeric("372", [`- ${piece}`]);
    }
    this.#numeric("376", ["End of /MOTD command."]);
  }

  #ping(params: string[]): void {
    if (params.length < 1 || params[0] === "") {
      this.#numeric("461", ["PING", "Not enough parameters"]);
      return;
    }
    this.#send(ircLine(this.#opts.serverName, "PONG", [this.#opts.serverName, params[0]]));
  }

  // --- commands after registration -----------------------------------------------

  #command(command: string, params: string[]): void {
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
        this.#request({ cmd: "rooms" }, {
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
        if (!params[0]) this.#numeric("431", ["No nickname given"]);
        else this.#request({ cmd: "nick", nick: params[0] }, { kind: "nick", nick: params[0] });
        return;
      case "AWAY":
        if (params[0]) this.#request({ cmd: "away", reason: params[0] }, { kind: "away" });
        else this.#request({ cmd: "back" }, { kind: "back" });
        return;
      case "QUIT":
        this.#request({ cmd: "quit", reason: params[0] || undefined }, { kind: "quit" });
        return;
      case "PING":
        this.#ping(params);
        return;
      case "PONG":
        return;
      case "MOTD": {
        const pending = this.#request({ cmd: "motd" }, { kind: "motd" });
        if (!pending.answered) this.#numeric("422", ["MOTD File is missing"]);
        return;
      }
      case "MODE":
        this.#mode(params);
        return;
      case "KICK":
        if (params.length < 2) this.#numeric("461", ["KICK", "Not enough parameters"]);
        else {
          this.#request(
            { cmd: "kick", user: params[1], reason: params[2] || undefined },
            { kind: "kick" },
          );
        }
        return;
      case "BAN":
      case "MUTE":
      case "UNBAN":
      case "UNMUTE":
        this.#sanction(command.toLowerCase() as "ban" | "mute" | "unban" | "unmute", params);
        return;
      case "OPER":
        if (params.length < 2) this.#numeric("461", ["OPER", "Not enough parameters"]);
        else this.#request({ cmd: "op", password: params[1] }, { kind: "op" });
        return;
      case "CAP":
        this.#cap(params);
        return;
      case "USER":
      case "PASS":
        this.#numeric("462", ["You may not reregister"]);
        return;
      default:
        this.#numeric("421", [command, "Unknown command"]);
    }
  }

  /**
   * linechat's operator commands, sent raw (`/quote BAN bob 1h spam`): BAN and MUTE take a
   * target, a duration when the next word is one, and a reason; UNBAN and UNMUTE a target.
   */
  #sanction(cmd: "ban" | "mute" | "unban" | "unmute", params: string[]): void {
    const [target, ...rest] = params.join(" ").split(" ").filter((w) => w !== "");
    if (!target) {
      this.#numeric("461", [cmd.toUpperCase(), "Not enough parameters"]);
      return;
    }
    if (cmd === "unban" || cmd === "unmute") {
      this.#request({ cmd, target }, { kind: "kick" });
      return;
    }
    const duration = /^\d+[smhd]$/.test(rest[0] ?? "") ? rest.shift() : undefined;
    const reason = rest.join(" ") || undefined;
    this.#request({ cmd, target, duration, reason }, { kind: "kick" });
  }

  #privmsg(params: string[], notice: boolean): void {
    const command = notice ? "NOTICE" : "PRIVMSG";
    if (params.length < 1 || params[0] === "") {
      if (!notice) this.#numeric("411", [`No recipient given (${command})`]);
      return;
    }
    const text = params[1] ?? "";
    if (text === "") {
      if (!notice) this.#numeric("412", ["No text to send"]);
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
        this.#request(
          { cmd: action === undefined ? "say" : "me", room: target, text: body },
          context,
        );
      } else {
        // A private action reads as one: `* alice waves`.
        const pm = action === undefined ? body : `* ${this.#nick} ${body}`;
        this.#request({ cmd: "pm", to: target, text: pm }, context);
      }
    }
  }

  #join(params: string[]): void {
    if (params.length < 1 || params[0] === "") {
      this.#numeric("461", ["JOIN", "Not enough parameters"]);
      return;
    }
    if (params[0] === "0") {
      for (const room of [...this.#channels]) {
        this.#request({ cmd: "part", room }, { kind: "part" });
      }
      return;
    }
    for (const room of params[0].split(",").slice(0, IRC_MAX_TARGETS)) {
      if (!room.startsWith("#")) {
        this.#numeric("403", [room || "*", "No such channel"]);
        continue;
      }
      this.#request({ cmd: "join", room }, { kind: "join" });
    }
  }

  #part(params: string[]): void {
    if (params.length < 1 || params[0] === "") {
      this.#numeric("461", ["PART", "Not enough parameters"]);
      return;
    }
    for (const room of params[0].split(",").slice(0, IRC_MAX_TARGETS)) {
      if (!this.#in(room)) {
        this.#numeric(room.startsWith("#") ? "442" : "403", [
          room || "*",
          "You're not on that channel",
        ]);
        continue;
      }
      this.#request({ cmd: "part", room, reason: params[1] || undefined }, { kind: "part" });
    }
  }

  /** Whether the client is in `room` (compared as the hub compares: case aside). */
  #in(room: string): string | undefined {
    const key = room.toLowerCase();
    for (const c of this.#channels) if (c.toLowerCase() === key) return c;
    return undefined;
  }

  #topic(params: string[]): void {
    if (params.length < 1) {
      this.#numeric("461", ["TOPIC", "Not enough parameters"]);
      return;
    }
    const room = this.#in(params[0]);
    if (!room) {
      if (params[0].startsWith("#")) {
        this.#request({ cmd: "users", room: params[0] }, { kind: "exists", room: params[0] });
      } else this.#numeric("403", [params[0], "No such channel"]);
      return;
    }
    // /topic acts on the active room: switch to it first (nobody else is told of a switch).
    this.#request({ cmd: "join", room }, { kind: "switch" });
    if (params.length < 2) {
      this.#request({ cmd: "topic" }, { kind: "topic", room, query: true });
    } else if (params[1] === "") {
      this.#request({ cmd: "topic", remove: true }, { kind: "topic", room, query: false });
    } else {
      const text = splitBytes(params[1], IRC_TOPIC_BYTES)[0];
      this.#request({ cmd: "topic", text }, { kind: "topic", room, query: false });
    }
  }

  #names(params: string[]): void {
    if (!params[0]) {
      this.#numeric("366", ["*", "End of /NAMES list"]);
      return;
    }
    for (const room of params[0].split(",").slice(0, IRC_MAX_TARGETS)) {
      if (!room.startsWith("#")) {
        this.#numeric("366", [room || "*", "End of /NAMES list"]);
        continue;
      }
      this.#request({ cmd: "users", room }, { kind: "names", target: room });
    }
  }

  #who(params: string[]): void {
    const mask = params[0] ?? "*";
    if (mask.startsWith("#")) {
      this.#request({ cmd: "users", room: mask }, { kind: "who", target: mask });
    } else {
      const glob = mask === "0" ? "*" : mask;
      const pattern = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*")
        .replaceAll("?", ".");
      const match = new RegExp(`^${pattern}$`, "i");
      this.#request({ cmd: "users", everyone: true }, { kind: "who", target: mask, match });
    }
  }

  #whois(params: string[]): void {
    const target = params[params.length - 1];
    if (!target) {
      this.#numeric("431", ["No nickname given"]);
      return;
    }
    this.#request({ cmd: "whois", user: target.split(",")[0] }, { kind: "whois", target });
  }

  #mode(params: string[]): void {
    const target = params[0];
    if (!target) {
      this.#numeric("461", ["MODE", "Not enough parameters"]);
      return;
    }
    if (target.startsWith("#")) {
      const room = this.#in(target) ?? target;
      if (params.length < 2) {
        this.#numeric("324", [room, "+"]);
      } else if (/^[+-]?b$/.test(params[1]) && params.length === 2) {
        this.#numeric("368", [room, "End of channel ban list"]);
      } else {
        this.#numeric("482", [room, "Channel modes cannot be changed here"]);
      }
      return;
    }
    if (target.toLowerCase() !== this.#nick!.toLowerCase()) {
      this.#numeric("502", ["Can't change mode for other users"]);
      return;
    }
    // Setting a user mode (irssi's +i) changes nothing: there are none to set.
    if (params.length < 2) this.#numeric("221", [this.#operator ? "+o" : "+"]);
  }

  // --- events from the hub -------------------------------------------------------

  #event(event: ServerEvent & { id?: number }): void {
    const pending = event.id === undefined ? undefined : this.#pending.get(event.id);
    const context = pending?.context;
    if (
      (context?.kind === "sasl" || context?.kind === "sasl-pass") &&
      (event.type === "named" || event.type === "error")
    ) {
      this.#saslEvent(event, context);
      return;
    }
    if (this.#held) {
      this.#held.push(event);
      if (this.#held.length > IRC_HELD_EVENTS) {
        this.#held = undefined;
        this.#send(ircLine(undefined, "ERROR", ["Closing link: registration not completed"]));
        this.#request({ cmd: "quit", reason: "registration not completed" }, { kind: "quit" });
      }
      return;
    }
    if (pending) pending.answered = true;
    const me = this.#me;
    switch (event.type) {
      case "mode":
        if (event.password) this.#serverPassword = true;
        if (event.name !== null) this.#nick = event.name;
        return;
      case "named":
        this.#nick = event.name;
        if (!this.#registered) {
          // The lobby's history and the motd come right after, in this same turn.
          this.#registered = true;
          this.#held = [];
          queueMicrotask(() => {
            const held = this.#held ?? [];
            this.#held = undefined;
            this.#welcome(held);
          });
        } else if (event.previous !== undefined) {
          this.#opts.identities.delete(event.previous);
          if (this.#user) this.#opts.identities.set(event.name, this.#user);
          this.#send(ircLine(this.#source(event.previous), "NICK", [event.name], undefined, false));
        }
        return;
      case "rename":
        this.#send(ircLine(this.#source(event.from), "NICK", [event.to], undefined, false), false);
        return;
      case "motd":
        this.#motd(event);
        return;
      case "message":
      case "action":
        this.#message(event.from, event.room, event.text, {
          action: event.type === "action",
          ts: event.ts,
          history: event.history,
        });
        return;
      case "private":
        this.#message(event.from, me, event.text, { ts: event.ts });
        return;
      case "group":
        this.#message(event.from, me, `[group to ${event.to.join(", ")}] ${event.text}`, {
          ts: event.ts,
        });
        return;
      case "sent":
        if (context?.kind === "say" && this.#caps.has("echo-message")) {
          this.#message(me, context.target, context.text, {
            action: context.action,
            notice: context.notice,
            ts: event.ts,
          });
        }
        return;
      case "ok":
        if (context?.kind === "say" && this.#caps.has("echo-message")) {
          this.#message(me, context.target, context.text, {
            action: context.action,
            notice: context.notice,
            ts: event.ts,
          });
        }
        return;
      case "announce":
        this.#notice(`[server] ${event.text}`);
        return;
      case "join":
        this.#send(
          ircLine(this.#source(event.name), "JOIN", [event.room], undefined, false),
          false,
        );
        return;
      case "leave":
        if (event.name === this.#nick) this.#channels.delete(event.room);
        this.#send(
          ircLine(
            this.#source(event.name),
            "PART",
            event.reason ? [event.room, event.reason] : [event.room],
            undefined,
            event.reason !== undefined,
          ),
          false,
        );
        return;
      case "quit":
        this.#send(
          ircLine(this.#source(event.name), "QUIT", [event.reason ?? "Quit"]),
          false,
        );
        return;
      case "room":
        if (!event.switched) {
          this.#joined(event.room);
        }
        if (!event.switched) {
          if (event.topic) this.#numeric("332", [event.room, event.topic]);
          this.#namesReply(event.room, event.names, [], []);
        }
        return;
      case "users":
        if (context?.kind === "exists") {
          this.#numeric("442", [context.room, "You're not on that channel"]);
        } else if (context?.kind === "who") {
          for (const name of event.names) {
            if (context.match && !context.match.test(name)) continue;
            const away = event.away?.includes(name) ?? false;
            const op = event.operators?.includes(name) ?? false;
            this.#whoLine(event.room, name, away, op);
          }
          this.#numeric("315", [context.target, "End of WHO list"]);
        } else {
          this.#namesReply(event.room, event.names, event.operators ?? [], event.away ?? []);
        }
        return;
      case "rooms":
        this.#numeric("321", ["Channel", "Users  Name"]);
        for (const r of event.rooms) {
          if (context?.kind === "list" && context.only && !context.only.has(r.name.toLowerCase())) {
            continue;
          }
          this.#numeric("322", [r.name, String(r.members), r.topic ?? ""]);
        }
        this.#numeric("323", ["End of /LIST"]);
        return;
      case "topic":
        if (event.changed) {
          this.#send(
            ircLine(this.#source(event.by ?? this.#opts.serverName), "TOPIC", [
              event.room,
              event.topic ?? "",
            ]),
            false,
          );
        } else if (event.topic) {
          this.#numeric("332", [event.room, event.topic]);
        } else if (!(context?.kind === "topic" && context.joining)) {
          this.#numeric("331", [event.room, "No topic is set"]);
        }
        return;
      case "whois": {
        const [user, real] = this.#userOf(event.name);
        this.#numeric("311", [event.name, user, USER_HOST, "*", real]);
        if (event.rooms.length > 0) this.#numeric("319", [event.name, event.rooms.join(" ")]);
        this.#numeric("312", [event.name, this.#opts.serverName, "linechat"]);
        if (event.away !== undefined) this.#numeric("301", [event.name, event.away]);
        this.#numeric("317", [
          event.name,
          String(event.idleSeconds),
          String(Math.floor(event.since / 1000)),
          "seconds idle, signon time",
        ]);
        this.#numeric("318", [event.name, "End of /WHOIS list"]);
        return;
      }
      case "system":
        this.#system(event.text, context);
        return;
      case "help":
        for (const line of event.lines) this.#notice(line);
        return;
      case "error":
        this.#error(event.code, event.text, context);
        return;
      case "bye":
        this.#send(ircLine(undefined, "ERROR", [`Closing link: ${event.reason}`]));
        return;
      case "prompt":
      case "welcome":
      case "history-end":
        return;
    }
  }

  #joined(room: string): void {
    this.#channels.add(room);
    this.#send(ircLine(this.#source(this.#nick!), "JOIN", [room], undefined, false));
  }

  /** 353 lines (as many names as fit each) and 366. */
  #namesReply(room: string, names: string[], operators: string[], _away: string[]): void {
    const head = utf8Bytes(`:${this.#opts.serverName} 353 ${this.#me} = ${room} :`);
    let line: string[] = [];
    let bytes = head;
    for (const name of names) {
      const full = this.#caps.has("userhost-in-names") ? this.#source(name) : name;
      const shown = operators.includes(name) ? `@${full}` : full;
      if (line.length > 0 && bytes + shown.length + 1 > IRC_LINE_BYTES) {
        this.#numeric("353", ["=", room, line.join(" ")]);
        line = [];
        bytes = head;
      }
      line.push(shown);
      bytes += shown.length + 1;
    }
    if (line.length > 0) this.#numeric("353", ["=", room, line.join(" ")]);
    this.#numeric("366", [room, "End of /NAMES list"]);
  }

  #whoLine(room: string, name: string, away: boolean, op: boolean): void {
    // `*` is a server operator; `@` their standing in a channel (linechat's operators are
    // the only ones), so not in a WHO of a nick (channel `*`).
    const flags = `${away ? "G" : "H"}${op ? "*" : ""}${op && room !== "*" ? "@" : ""}`;
    const [user, real] = this.#userOf(name);
    this.#numeric("352", [room, user, USER_HOST, this.#opts.serverName, name, flags, `0 ${real}`]);
  }

  /** A user's user name and real name: an IRC user's from USER, the name for the others. */
  #userOf(name: string): [string, string] {
    const identity = this.#opts.identities.get(name);
    return [identity?.user || name, identity?.real || name];
  }

  /** The connection has closed: its waiting lines and USER details go. */
  stop(): void {
    clearTimeout(this.#timer);
    this.#queue.length = 0;
    if (this.#registered) this.#opts.identities.delete(this.#nick!);
  }

  #system(text: string, context: Context | undefined): void {
    switch (context?.kind) {
      case "say": {
        // A private message to someone away: `bob is away: REASON` is 301.
        const away = /^(\S+) is away: (.*)$/.exec(text);
        if (away && away[1].toLowerCase() === context.target.toLowerCase()) {
          if (!context.notice) this.#numeric("301", [away[1], away[2]]);
          return;
        }
        break;
      }
      case "switch":
      case "join":
        // `you are in #dev already`: a JOIN of (or TOPIC's switch to) the active room.
        return;
      case "away":
        this.#numeric("306", ["You have been marked as being away"]);
        return;
      case "back":
        this.#numeric("305", ["You are no longer marked as being away"]);
        return;
      case "op":
        if (/now an operator|operator already/.test(text)) {
          this.#operator = true;
          this.#numeric("381", ["You are now an IRC operator"]);
          return;
        }
    }
    this.#notice(text);
  }

  #error(code: string, text: string, context: Context | undefined): void {
    switch (context?.kind) {
      case "say":
        if (context.notice) return;
        if (code === "unknown-user") this.#numeric("401", [context.target, text]);
        else if (code === "not-in-room" || code === "muted" || code === "room-invalid") {
          this.#numeric(context.target.startsWith("#") ? "404" : "401", [context.target, text]);
        } else this.#notice(text);
        return;
      case "nick":
        if (code === "name-taken") this.#numeric("433", [context.nick, text]);
        else if (code === "name-registered" || code === "wrong-password" || code === "locked-out") {
          this.#numeric("433", [context.nick, text]);
          // Leave the hub's password prompt: the name stays free to try again.
          this.#hub!.input(this.#client!, "");
        } else if (code === "flood" || code === "busy") this.#notice(text);
        else this.#numeric("432", [context.nick, text]);
        return;
      case "pass":
        this.#numeric("464", [text]);
        this.#request({ cmd: "quit", reason: "wrong password" }, { kind: "quit" });
        return;
      case "join":
        if (code === "too-many-rooms") this.#numeric("405", ["*", text]);
        else if (code === "room-invalid") this.#numeric("403", ["*", text]);
        else this.#notice(text);
        return;
      case "part":
        if (code === "not-in-room") this.#numeric("442", ["*", text]);
        else this.#notice(text);
        return;
      case "topic":
        if (code === "not-in-room") this.#numeric("442", [context.room, text]);
        else if (code === "muted" || code === "not-allowed") {
          this.#numeric("482", [context.room, text]);
        } else this.#notice(text);
        return;
      case "whois":
        if (code === "unknown-user" || code === "usage") {
          this.#numeric("401", [context.target, "No such nick"]);
          this.#numeric("318", [context.target, "End of /WHOIS list"]);
        } else this.#notice(text);
        return;
      case "exists":
        this.#numeric("403", [context.room, "No such channel"]);
        return;
      case "who":
      case "names":
        if (context.kind === "who") this.#numeric("315", [context.target, "End of WHO list"]);
        else this.#numeric("366", [context.target, "End of /NAMES list"]);
        return;
      case "kick":
        if (code === "not-allowed") {
          this.#numeric("481", ["Permission Denied- You're not an IRC operator"]);
        } else if (code === "unknown-user") this.#numeric("401", ["*", text]);
        else this.#notice(text);
        return;
      case "op":
        if (code === "wrong-password" || code === "locked-out") this.#numeric("464", [text]);
        else if (code === "not-allowed") this.#numeric("491", ["No O-lines for your host"]);
        else this.#notice(text);
        return;
    }
    this.#notice(text);
  }
}
