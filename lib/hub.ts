// The chat itself: names, routing, commands and the operator console, over plain data.
// It never sees a socket: each connection is a Peer that takes bytes and can be closed;
// reading, framing and output queues belong to session.ts.

import {
  type Command,
  type CommandName,
  type CommandOf,
  helpLines,
  isOperatorCommand,
  parseInput,
  worksBeforeName,
} from "./commands.ts";
import { type ErrorCode, Outgoing, type OutputMode, type ServerEvent } from "./events.ts";
import { type Limits, TokenBucket } from "./limits.ts";
import { nameKey, nameProblem } from "./names.ts";
import { sanitize } from "./sanitize.ts";

/** What the hub needs from a connection. */
export interface Peer {
  /** Remote address as `host:port`, for the log and hooks. */
  readonly address: string;
  /** Queues bytes for the connection; never blocks, never throws. */
  write(bytes: Uint8Array): void;
  /** Closes the connection once queued output is flushed (bounded); `reason` is logged. */
  close(reason?: string): void;
}

/** The kinds of chat message, as hooks see them. */
export type MessageKind = "public" | "private" | "group";

/** A chat message on its way, as the `message` hook sees it. */
export interface MessageInfo {
  from: string;
  kind: MessageKind;
  /** Recipients by name; empty for a public message (everyone else). */
  to: string[];
  text: string;
}

/**
 * Callbacks for code that embeds the server (seed 000). They run synchronously; an
 * exception in a hook is logged and ignored.
 */
export interface ChatHooks {
  connect?(info: { address: string }): void;
  join?(info: { name: string; address: string }): void;
  /** Return a string to rewrite the text, `false` to drop the message. */
  message?(info: MessageInfo): string | false | void;
  command?(info: { name: string | undefined; address: string; command: Command }): void;
  rename?(info: { from: string; to: string }): void;
  leave?(info: { name: string; reason?: string }): void;
  disconnect?(info: { address: string; name?: string; reason?: string }): void;
}

/** Where a two-step command (seed 000) sends the next line. */
type Pending =
  | { kind: "private"; to: string }
  | { kind: "group"; to: string[] }
  | { kind: "public" };

/** The hub's state for one connection. */
export class Client {
  name: string | undefined;
  mode: OutputMode = "text";
  pending: Pending | undefined;
  closing = false;
  /** When the connection arrived and when it last sent a line (ms since the epoch). */
  readonly connectedAt: number;
  lastInput: number;
  /** Flood control: lines allowed now; absent when flood control is off. */
  bucket: TokenBucket | undefined;
  /** Dropped lines allowed before disconnecting; made at the first drop. */
  floodBudget: TokenBucket | undefined;
  /** Whether the client was told to slow down since its last accepted line. */
  warned = false;

  constructor(readonly peer: Peer, limits: Limits, now: number) {
    this.connectedAt = this.lastInput = now;
    this.bucket = limits.ratePerSecond > 0
      ? new TokenBucket(limits.ratePerSecond, limits.burst, now)
      : undefined;
  }
}

/** Settings a hub runs with. */
export interface HubOptions {
  limits: Limits;
  /** Give each newcomer a free `guest-N` name at once (seed 001). */
  autoName?: boolean;
  hooks?: ChatHooks;
  /** The server log: one line per call, without a timestamp (the caller adds it). */
  log?: (line: string) => void;
  version: string;
}

type Handler<K extends CommandName> = (client: Client, cmd: CommandOf<K>) => void;

/** Rooms of one: the single chat all named clients are in, with routing and commands. */
export class Hub {
  readonly #opts: HubOptions;
  readonly #clients = new Set<Client>();
  /** Named clients by name key, in join order. */
  readonly #byName = new Map<string, Client>();
  #guestCounter = 0;

  constructor(options: HubOptions) {
    this.#opts = options;
  }

  /** Names online, in join order. */
  get names(): string[] {
    return [...this.#byName.values()].map((c) => c.name!);
  }

  /** Connections open, named or not. */
  get connectionCount(): number {
    return this.#clients.size;
  }

  /** Registers a new connection: greets it and asks for a name (or gives one). */
  connect(peer: Peer, now = Date.now()): Client {
    const client = new Client(peer, this.#opts.limits, now);
    this.#clients.add(client);
    this.#log(`connect ${peer.address} (${this.#clients.size} connections)`);
    this.#hook("connect", { address: peer.address });
    this.#send(client, {
      type: "welcome",
      ts: Date.now(),
      server: "linechat",
      version: this.#opts.version,
      text: `welcome to linechat ${this.#opts.version} (${this.#byName.size} online)`,
    });
    if (this.#opts.autoName) {
      this.#join(client, this.#freeGuestName(), true);
    } else {
      this.#prompt(client);
    }
    return client;
  }

  /** Handles one input line from a client. Never throws. */
  input(client: Client, line: string, now = Date.now()): void {
    if (client.closing || !this.#admit(client, now)) return;
    try {
      this.#input(client, sanitize(line));
    } catch (err) {
      this.#log(`error handling input from ${this.#who(client)}: ${describe(err)}`);
      this.#error(client, "internal", "the server could not handle that line");
    }
  }

  /** Tells a client its line was longer than the limit and was discarded. */
  overlong(client: Client, now = Date.now()): void {
    if (client.closing || !this.#admit(client, now)) return;
    this.#error(
      client,
      "line-too-long",
      `line too long (limit ${this.#opts.limits.maxLineBytes} bytes); it was discarded`,
    );
  }

  /** Forgets a connection that has closed; others see it leave. Safe to call twice. */
  disconnect(client: Client, reason?: string): void {
    if (!this.#clients.delete(client)) return;
    client.closing = true;
    const name = client.name;
    if (name !== undefined) {
      this.#byName.delete(nameKey(name));
      const count = this.#byName.size;
      this.#log(`leave ${name}${reason ? ` (${reason})` : ""} (${count} online)`);
      this.#broadcast({ type: "leave", ts: Date.now(), name, count, reason });
      this.#hook("leave", { name, reason });
    }
    this.#log(
      `disconnect ${client.peer.address}${reason ? ` (${reason})` : ""} (${this.#clients.size} connections)`,
    );
    this.#hook("disconnect", { address: client.peer.address, name, reason });
  }

  /** Tells every client the server is going away and closes them. */
  shutdown(reason = "server shutting down"): void {
    for (const client of this.#clients) this.#bye(client, reason);
  }

  /**
   * Handles a line typed at the server's console (seed 003): `/users`, `/kick`,
   * `/help`; `/quit` or `exit` returns `"stop"`; anything else goes to everyone.
   */
  console(line: string): "stop" | undefined {
    const input = parseInput(sanitize(line));
    switch (input.kind) {
      case "empty":
        return;
      case "error":
        this.#log(`console: ${input.message}`);
        return;
      case "text":
        this.#announce(input.text);
        return;
    }
    const cmd = input.command;
    switch (cmd.name) {
      case "disconnect":
        return "stop";
      case "users":
        this.#log(`console: ${this.#byName.size} online: ${this.names.join(", ")}`);
        return;
      case "kick":
        if (!this.kick(cmd.user, cmd.reason)) this.#log(`console: no user named ${cmd.user}`);
        return;
      case "sendall":
        if (cmd.text) this.#announce(cmd.text);
        return;
      case "help":
        this.#log(
          "console: /users, /kick NAME [REASON], /quit or exit; other lines go to everyone",
        );
        return;
      default:
        this.#log(`console: /${cmd.name} is not available on the console`);
    }
  }

  /** Disconnects the named user with a reason; false when nobody has that name. */
  kick(name: string, reason?: string): boolean {
    const target = this.#byName.get(nameKey(name));
    if (!target) return false;
    const clean = reason ? sanitize(reason) : "";
    this.#log(`kick ${target.name}${clean ? ` (${clean})` : ""}`);
    this.#bye(target, `kicked by the server${clean ? `: ${clean}` : ""}`);
    this.disconnect(target, "kicked");
    return true;
  }

  /**
   * Closes connections past a time limit: no name within `nameTimeoutMs`, or no input
   * within `idleTimeoutMs`. The server calls it on a timer.
   */
  sweep(now = Date.now()): void {
    const { nameTimeoutMs, idleTimeoutMs } = this.#opts.limits;
    for (const client of this.#clients) {
      if (client.closing) continue;
      if (
        nameTimeoutMs > 0 && client.name === undefined && now - client.connectedAt >= nameTimeoutMs
      ) {
        this.#log(`timeout ${client.peer.address}: no name chosen`);
        this.#bye(client, `no name chosen within ${seconds(nameTimeoutMs)}`);
        this.disconnect(client, "no name chosen");
      } else if (idleTimeoutMs > 0 && now - client.lastInput >= idleTimeoutMs) {
        this.#log(`timeout ${this.#who(client)}: idle`);
        this.#bye(client, `idle for ${seconds(idleTimeoutMs)}`);
        this.disconnect(client, "idle");
      }
    }
  }

  // --- input ---------------------------------------------------------------------

  /**
   * Flood control: whether this line may be handled. Past the burst and rate, lines are
   * dropped with one notice; a client that keeps flooding is disconnected.
   */
  #admit(client: Client, now: number): boolean {
    client.lastInput = now;
    const bucket = client.bucket;
    if (!bucket || bucket.take(now)) {
      client.warned = false;
      return true;
    }
    const { ratePerSecond, burst, floodDisconnectLines } = this.#opts.limits;
    client.floodBudget ??= new TokenBucket(ratePerSecond, floodDisconnectLines, now);
    if (!client.floodBudget.take(now)) {
      this.#log(`flood ${this.#who(client)}: disconnected`);
      this.#bye(client, "disconnected for flooding");
      this.disconnect(client, "flooding");
      return false;
    }
    if (!client.warned) {
      client.warned = true;
      this.#error(
        client,
        "flood",
        `slow down: lines are being dropped (limit ${ratePerSecond}/s after a burst of ${burst})`,
      );
    }
    return false;
  }

  #input(client: Client, line: string): void {
    const input = parseInput(line, {
      isUser: (n) => client.name !== undefined && this.#byName.has(nameKey(n)),
    });
    if (client.pending && (input.kind === "text" || input.kind === "empty")) {
      const pending = client.pending;
      client.pending = undefined;
      if (input.kind === "empty") {
        this.#system(client, "nothing sent");
      } else {
        this.#deliver(client, pending, input.text);
      }
      return;
    }
    client.pending = undefined;
    switch (input.kind) {
      case "empty":
        return;
      case "error":
        this.#error(client, input.usage ? "usage" : "unknown-command", input.message);
        return;
      case "text":
        if (client.name === undefined) {
          this.#rename(client, input.text);
        } else {
          this.#deliver(client, { kind: "public" }, input.text);
        }
        return;
      case "command":
        this.#command(client, input.command);
    }
  }

  #command(client: Client, cmd: Command): void {
    this.#log(`command ${this.#who(client)}: /${cmd.name}`);
    this.#hook("command", { name: client.name, address: client.peer.address, command: cmd });
    if (isOperatorCommand(cmd.name)) {
      this.#error(client, "not-allowed", `not allowed: /${cmd.name} is for operators`);
      return;
    }
    if (client.name === undefined && !worksBeforeName(cmd.name)) {
      this.#error(client, "no-name", "choose a name first (type a name, or /nick NAME)");
      this.#prompt(client);
      return;
    }
    (this.#handlers[cmd.name] as Handler<CommandName>)(client, cmd);
  }

  /** One handler per command; the type makes a command without a handler a compile error. */
  readonly #handlers: { [K in CommandName]: Handler<K> } = {
    help: (client, cmd) => {
      this.#send(client, { type: "help", ts: Date.now(), lines: helpLines(cmd.topic) });
    },
    users: (client) => {
      const names = this.names;
      this.#send(client, { type: "users", ts: Date.now(), names, count: names.length });
    },
    pm: (client, cmd) => this.#twoStep(client, { kind: "private", to: cmd.to }, cmd.text),
    groupmessage: (client, cmd) => this.#twoStep(client, { kind: "group", to: cmd.to }, cmd.text),
    sendall: (client, cmd) => this.#twoStep(client, { kind: "public" }, cmd.text),
    changeusername: (client, cmd) => this.#rename(client, cmd.nick),
    disconnect: (client) => {
      this.#bye(client, "goodbye");
      this.disconnect(client, "quit");
    },
    proto: (client, cmd) => {
      client.mode = cmd.mode;
      this.#send(client, {
        type: "mode",
        ts: Date.now(),
        mode: cmd.mode,
        name: client.name ?? null,
      });
    },
    kick: () => {
      // Operator-only: refused in #command; the console calls kick() directly.
    },
  };

  // --- naming ----------------------------------------------------------------------

  #rename(client: Client, name: string): void {
    const problem = nameProblem(name, this.#opts.limits.maxNameLength);
    const holder = this.#byName.get(nameKey(name));
    if (problem || (holder && holder !== client)) {
      this.#error(
        client,
        problem ? "name-invalid" : "name-taken",
        problem ? `invalid name: ${problem}` : `the name ${name} is taken; choose another`,
      );
      if (client.name === undefined) this.#prompt(client);
      return;
    }
    const previous = client.name;
    if (previous === undefined) {
      this.#join(client, name, false);
      return;
    }
    if (previous === name) {
      this.#system(client, `you are already ${name}`);
      return;
    }
    this.#byName.delete(nameKey(previous));
    client.name = name;
    this.#byName.set(nameKey(name), client);
    this.#log(`rename ${previous} -> ${name}`);
    this.#send(client, { type: "named", ts: Date.now(), name, previous, auto: false });
    this.#broadcast({ type: "rename", ts: Date.now(), from: previous, to: name }, client);
    this.#hook("rename", { from: previous, to: name });
  }

  #join(client: Client, name: string, auto: boolean): void {
    client.name = name;
    // The burst starts when you join: a paste right after naming gets through whole.
    if (client.bucket) {
      client.bucket = new TokenBucket(client.bucket.rate, client.bucket.burst, Date.now());
    }
    this.#byName.set(nameKey(name), client);
    const count = this.#byName.size;
    this.#log(`join ${name} from ${client.peer.address} (${count} online)`);
    this.#send(client, { type: "named", ts: Date.now(), name, auto });
    this.#broadcast({ type: "join", ts: Date.now(), name, count }, client);
    this.#hook("join", { name, address: client.peer.address });
  }

  #freeGuestName(): string {
    for (;;) {
      const name = `guest-${++this.#guestCounter}`;
      if (!this.#byName.has(name)) return name;
    }
  }

  #prompt(client: Client): void {
    this.#send(client, { type: "prompt", ts: Date.now(), text: "choose a name:" });
  }

  // --- messages --------------------------------------------------------------------

  #twoStep(client: Client, target: Pending, text: string | undefined): void {
    if (text !== undefined) {
      this.#deliver(client, target, text);
      return;
    }
    client.pending = target;
    const to = target.kind === "public"
      ? "everyone"
      : target.kind === "private"
      ? target.to
      : target.to.join(", ");
    this.#system(client, `type your message to ${to} on the next line`);
  }

  #deliver(client: Client, target: Pending, text: string): void {
    const from = client.name!;
    const to = target.kind === "public" ? [] : target.kind === "private" ? [target.to] : target.to;
    const rewritten = this.#hook("message", { from, kind: target.kind, to: [...to], text });
    if (rewritten === false) return;
    if (typeof rewritten === "string") text = sanitize(rewritten);
    if (text === "") return;
    const ts = Date.now();
    if (target.kind === "public") {
      this.#log(`message ${from}: ${text}`);
      this.#broadcast({ type: "message", ts, from, text }, client);
      return;
    }
    const found: Client[] = [];
    for (const name of to) {
      const c = this.#byName.get(nameKey(name));
      if (!c) {
        this.#error(client, "unknown-user", `no user named ${name} is online`);
      } else if (c !== client && !found.includes(c)) {
        found.push(c);
      }
    }
    if (target.kind === "private" && found.length === 0) return;
    const names = found.map((c) => c.name!);
    if (found.length === 0) {
      this.#error(client, "unknown-user", "nobody to send to");
      return;
    }
    this.#log(`${target.kind} ${from} -> ${names.join(", ")}: ${text}`);
    const out = new Outgoing(
      target.kind === "private"
        ? { type: "private", ts, from, to: names[0], text }
        : { type: "group", ts, from, to: names, text },
    );
    for (const c of found) this.#write(c, out);
    this.#send(client, { type: "sent", ts, kind: target.kind, to: names, text });
  }

  #announce(text: string): void {
    this.#log(`announce: ${text}`);
    this.#broadcast({ type: "announce", ts: Date.now(), from: "server", text });
  }

  // --- output ----------------------------------------------------------------------

  /** Sends to every named client except `except`, encoding once per output mode. */
  #broadcast(event: ServerEvent, except?: Client): void {
    const out = new Outgoing(event);
    for (const c of this.#byName.values()) if (c !== except) this.#write(c, out);
  }

  #send(client: Client, event: ServerEvent): void {
    this.#write(client, new Outgoing(event));
  }

  #write(client: Client, out: Outgoing): void {
    if (!client.closing) client.peer.write(out.bytes(client.mode));
  }

  #system(client: Client, text: string): void {
    this.#send(client, { type: "system", ts: Date.now(), text });
  }

  #error(client: Client, code: ErrorCode, text: string): void {
    this.#send(client, { type: "error", ts: Date.now(), code, text });
  }

  /** Sends a last line and closes the connection after it is flushed. */
  #bye(client: Client, reason: string): void {
    this.#send(client, { type: "bye", ts: Date.now(), reason });
    client.closing = true;
    client.peer.close(reason);
  }

  // --- log and hooks ---------------------------------------------------------------

  #who(client: Client): string {
    return client.name ?? client.peer.address;
  }

  #log(line: string): void {
    this.#opts.log?.(line);
  }

  #hook<K extends keyof ChatHooks>(
    name: K,
    info: Parameters<NonNullable<ChatHooks[K]>>[0],
  ): ReturnType<NonNullable<ChatHooks[K]>> | undefined {
    const fn = this.#opts.hooks?.[name] as
      | ((i: typeof info) => ReturnType<NonNullable<ChatHooks[K]>>)
      | undefined;
    if (!fn) return undefined;
    try {
      return fn(info);
    } catch (err) {
      this.#log(`error in ${name} hook: ${describe(err)}`);
      return undefined;
    }
  }
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

/** A one-line description of a thrown value. */
export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
