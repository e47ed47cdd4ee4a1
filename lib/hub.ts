// The chat itself: names, rooms, routing, commands and the operator console, over plain data.
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
import { type ErrorCode, LOBBY, Outgoing, type OutputMode, type ServerEvent } from "./events.ts";
import { type Limits, TokenBucket } from "./limits.ts";
import { contains, formatIp, hostAddress, parseIp } from "./address.ts";
import { Moderation, parseTarget, type SanctionTarget, untilText } from "./moderation.ts";
import { nameKey, nameProblem, roomProblem } from "./names.ts";
import { hashPassword, sameSecret, verifyPassword } from "./passwords.ts";
import { sanitize } from "./sanitize.ts";
import { type ChatStore, MemoryStore, type StoredMute } from "./store.ts";

/** What the hub needs from a connection. */
export interface Peer {
  /** Remote address as `host:port`, for the log and hooks. */
  readonly address: string;
  /** Queues bytes for the connection; never blocks, never throws. */
  write(bytes: Uint8Array): void;
  /** Closes the connection once queued output is flushed (bounded); `reason` is logged. */
  close(reason?: string): void;
}

/** The kinds of chat message, as hooks see them (`action` is `/me`). */
export type MessageKind = "public" | "action" | "private" | "group";

/** A chat message on its way, as the `message` hook sees it. */
export interface MessageInfo {
  from: string;
  kind: MessageKind;
  /** Recipients by name; empty for a public message or action (the room). */
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
  /** A command as typed; any password in it reads `(hidden)`. */
  command?(info: { name: string | undefined; address: string; command: Command }): void;
  rename?(info: { from: string; to: string }): void;
  leave?(info: { name: string; reason?: string }): void;
  disconnect?(info: { address: string; name?: string; reason?: string }): void;
}

/** Where a message goes; a two-step command (seed 000) keeps one for the next line. */
type Target =
  | { kind: "private"; to: string }
  | { kind: "group"; to: string[] }
  | { kind: "public" }
  | { kind: "action" };

/** Who runs an operator command: a client, or the console (`client` absent). */
interface Actor {
  name: string;
  client?: Client;
}

/** Lines held while a password is being checked, at most; more are dropped. */
const MAX_HELD_LINES = 64;

/** A room: its members and topic. Everyone named is in exactly one room. */
class Room {
  readonly members = new Set<Client>();
  topic: { text: string; by: string } | undefined;

  constructor(readonly name: string) {}
}

/** The hub's state for one connection. */
export class Client {
  name: string | undefined;
  mode: OutputMode = "text";
  pending: Target | undefined;
  closing = false;
  /** The room a named client is in. */
  room: Room | undefined;
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
  /** Whether the client was told to slow down since its last accepted line. */
  warned = false;
  /** Whether the client gave the server password (or none is needed). */
  passed = true;
  operator = false;
  /** A registered name waiting for its password on the next line. */
  claiming: string | undefined;
  /** Wrong passwords so far on this connection (server, operator or name). */
  authFailures = 0;
  /** Lines that came in while a password was being checked; handled in order after. */
  held: string[] | undefined;
  /** The pending reply to a wrong password (the throttle), cleared on disconnect. */
  timer: ReturnType<typeof setTimeout> | undefined;

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
  /** History and topics; in memory (the last `historyLines` per room) when absent. */
  store?: ChatStore;
  /** The message of the day, shown on joining and by /motd. */
  motd?: string[];
  /** The password every client must give before choosing a name. */
  password?: string;
  /** The password that makes a user an operator with /op. */
  opPassword?: string;
}

type Handler<K extends CommandName> = (client: Client, cmd: CommandOf<K>) => void;

/** The chat: named clients in rooms, with routing, commands and the console. */
export class Hub {
  readonly #opts: HubOptions;
  readonly #store: ChatStore;
  readonly #clients = new Set<Client>();
  /** Named clients by name key, in join order. */
  readonly #byName = new Map<string, Client>();
  /** Rooms by name key: #lobby always, others while they have members or a topic. */
  readonly #rooms = new Map<string, Room>();
  readonly #lobby: Room;
  readonly #moderation: Moderation;
  #motd: string[] | undefined;
  #guestCounter = 0;

  constructor(options: HubOptions) {
    this.#opts = options;
    this.#store = options.store ?? new MemoryStore(options.limits.historyLines);
    this.#moderation = new Moderation(this.#store);
    this.#motd = options.motd;
    this.#lobby = this.#room(LOBBY);
    for (const t of this.#store.topics()) this.#room(t.room).topic = { text: t.topic, by: t.by };
  }

  /** Names online, in the order they connected (a rename keeps the place). */
  get names(): string[] {
    const names: string[] = [];
    for (const c of this.#clients) if (c.name !== undefined) names.push(c.name);
    return names;
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
    if (this.#opts.password !== undefined) {
      client.passed = false;
      this.#passwordPrompt(client, "password:");
    } else {
      this.#admitted(client);
    }
    return client;
  }

  /**
   * Why a connection from `ip` (any spelling, as Deno gives it) is refused by a ban on an
   * address or a range holding it, or undefined. Never throws.
   */
  bannedAddress(ip: string, now = Date.now()): string | undefined {
    const ban = this.#moderation.banned("ip", ip, now);
    return ban &&
      `you are banned from this server ${untilText(ban.until)}${
        ban.reason ? ` (${ban.reason})` : ""
      }`;
  }

  /** A client is in (no password needed, or it gave it): it gets a name or is asked for one. */
  #admitted(client: Client): void {
    if (this.#opts.autoName) {
      this.#join(client, this.#freeGuestName(), true);
    } else {
      this.#prompt(client);
    }
  }

  /** Handles one input line from a client. Never throws. */
  input(client: Client, line: string, now = Date.now()): void {
    if (client.closing || !this.#admit(client, now)) return;
    this.#handle(client, line);
  }

  /** Handles an admitted line, or holds it while a password is being checked. */
  #handle(client: Client, line: string): void {
    if (client.held) {
      if (client.held.length < MAX_HELD_LINES) client.held.push(line);
      return;
    }
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
    clearTimeout(client.timer);
    const name = client.name;
    const room = client.room;
    if (name !== undefined && room !== undefined) {
      this.#byName.delete(nameKey(name));
      this.#leaveRoom(client, room);
      const count = this.#byName.size;
      this.#log(`leave ${name}${reason ? ` (${reason})` : ""} (${count} online)`);
      const members = room.members.size;
      this.#roomNotice(room, {
        type: "leave",
        ts: Date.now(),
        name,
        room: room.name,
        count,
        members,
        reason,
      });
      this.#hook("leave", { name, reason });
    }
    this.#log(
      `disconnect ${client.peer.address}${
        reason ? ` (${reason})` : ""
      } (${this.#clients.size} connections)`,
    );
    this.#hook("disconnect", { address: client.peer.address, name, reason });
  }

  /** Tells every client the server is going away and closes them. */
  shutdown(reason = "server shutting down"): void {
    for (const client of this.#clients) this.#bye(client, reason);
  }

  /**
   * Handles a line typed at the server's console (seed 003), which is always an operator:
   * `/users`, `/kick`, `/ban` and the other operator commands, `/motd TEXT`, `/help`;
   * `/quit` or `exit` returns `"stop"`; anything else goes to everyone.
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
    const server: Actor = { name: "the server" };
    switch (cmd.name) {
      case "disconnect":
        return "stop";
      case "users":
        this.#log(`console: ${this.#byName.size} online: ${this.names.join(", ")}`);
        return;
      case "sendall":
        if (cmd.text) this.#announce(cmd.text);
        return;
      case "motd":
        if (cmd.text) this.#setMotd(server, cmd.text);
        else this.#log(`console: motd: ${(this.#motd ?? ["(none)"]).join(" / ")}`);
        return;
      case "help":
        this.#log(
          "console: /users, /kick NAME [REASON], /ban NAME|IP [DURATION] [REASON], /unban, " +
            "/banned, /mute NAME [DURATION], /unmute, /motd [TEXT], /quit or exit; " +
            "other lines go to everyone",
        );
        return;
      case "kick":
      case "ban":
      case "unban":
      case "banned":
      case "mute":
      case "unmute":
        this.#operatorCommand(server, cmd);
        return;
      default:
        this.#log(`console: /${cmd.name} is not available on the console`);
    }
  }

  /** Disconnects the named user with a reason; false when nobody has that name. */
  kick(name: string, reason?: string, by = "the server"): boolean {
    const target = this.#byName.get(nameKey(name));
    if (!target) return false;
    const clean = reason ? sanitize(reason) : "";
    this.#log(`kick ${target.name} by ${by}${clean ? ` (${clean})` : ""}`);
    this.#bye(target, `kicked by ${by}${clean ? `: ${clean}` : ""}`);
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
    if (!client.passed) {
      this.#gate(client, input);
      return;
    }
    if (
      client.claiming !== undefined &&
      (input.kind === "text" || (input.kind === "command" && input.command.name === "pass"))
    ) {
      // The password for a registered name, asked for on its own line (or with /pass).
      const name = client.claiming;
      client.claiming = undefined;
      this.#rename(
        client,
        name,
        input.kind === "text" ? input.text : (input.command as CommandOf<"pass">).password,
      );
      return;
    }
    client.claiming = undefined;
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

  /**
   * Before the server password: only /pass (or a plain line, taken as the password),
   * /help, /proto and /quit.
   */
  #gate(client: Client, input: ReturnType<typeof parseInput>): void {
    if (input.kind === "text") {
      this.#checkServerPassword(client, input.text);
    } else if (input.kind === "error") {
      this.#error(client, input.usage ? "usage" : "unknown-command", input.message);
    } else if (input.kind === "command") {
      const cmd = input.command;
      if (cmd.name === "pass") this.#checkServerPassword(client, cmd.password);
      else if (cmd.name === "help" || cmd.name === "proto" || cmd.name === "disconnect") {
        this.#command(client, cmd);
      } else this.#error(client, "no-password", "give the server password first (/pass PASSWORD)");
    }
  }

  #checkServerPassword(client: Client, given: string): void {
    if (sameSecret(given, this.#opts.password!)) {
      client.passed = true;
      client.authFailures = 0;
      this.#log(`password accepted from ${client.peer.address}`);
      this.#admitted(client);
    } else {
      this.#wrongPassword(client, "wrong password", () => {
        this.#passwordPrompt(client, "password:");
      });
    }
  }

  /**
   * The throttle for every password: each wrong try is answered only after a delay that
   * grows with the tries (input meanwhile is held), and too many tries close the connection.
   */
  #wrongPassword(client: Client, what: string, then: () => void): void {
    const { authDelayMs, authTries } = this.#opts.limits;
    client.authFailures++;
    this.#log(`${what} from ${this.#who(client)} (try ${client.authFailures})`);
    client.held ??= [];
    client.timer = setTimeout(() => {
      client.timer = undefined;
      if (client.closing) return;
      if (client.authFailures >= authTries) {
        this.#bye(client, `${what}: too many tries`);
        this.disconnect(client, "too many wrong passwords");
        return;
      }
      this.#error(client, "wrong-password", `${what}; try again`);
      then();
      this.#release(client);
    }, authDelayMs * client.authFailures);
  }

  /** Handles the lines held while a password was checked, in order. */
  #release(client: Client): void {
    const held = client.held ?? [];
    client.held = undefined;
    while (held.length > 0 && !client.closing) {
      this.#handle(client, held.shift()!);
      // A held line may have started another check: the rest wait for it, in order.
      const again = client.held as string[] | undefined;
      if (again) {
        again.push(...held);
        return;
      }
    }
  }

  #command(client: Client, cmd: Command): void {
    this.#log(`command ${this.#who(client)}: /${cmd.name}`);
    const shown = "password" in cmd && cmd.password !== undefined
      ? { ...cmd, password: "(hidden)" } as Command
      : cmd;
    this.#hook("command", { name: client.name, address: client.peer.address, command: shown });
    if (isOperatorCommand(cmd.name) && !client.operator) {
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
    users: (client, cmd) => {
      const room = client.room!;
      const names = cmd.everyone ? this.names : [...room.members].map((c) => c.name!);
      this.#send(client, {
        type: "users",
        ts: Date.now(),
        room: cmd.everyone ? "*" : room.name,
        names,
        count: names.length,
        online: this.#byName.size,
      });
    },
    pm: (client, cmd) => this.#twoStep(client, { kind: "private", to: cmd.to }, cmd.text),
    groupmessage: (client, cmd) => this.#twoStep(client, { kind: "group", to: cmd.to }, cmd.text),
    sendall: (client, cmd) => this.#twoStep(client, { kind: "public" }, cmd.text),
    me: (client, cmd) => this.#deliver(client, { kind: "action" }, cmd.text),
    reply: (client, cmd) => {
      if (client.lastPmFrom === undefined) {
        this.#error(client, "unknown-user", "nobody has sent you a private message yet");
        return;
      }
      this.#twoStep(client, { kind: "private", to: client.lastPmFrom }, cmd.text);
    },
    join: (client, cmd) => {
      const problem = roomProblem(cmd.room, this.#opts.limits.maxNameLength);
      if (problem) {
        this.#error(client, "room-invalid", `invalid room: ${problem}`);
      } else if (nameKey(cmd.room) === nameKey(client.room!.name)) {
        this.#system(client, `you are already in ${client.room!.name}`);
      } else if (!this.#silenced(client, `you stay in ${client.room!.name}`)) {
        this.#move(client, this.#room(cmd.room));
      }
    },
    leave: (client) => {
      if (client.room === this.#lobby) {
        this.#system(client, `you are in ${LOBBY} already`);
      } else if (!this.#silenced(client, `you stay in ${client.room!.name}`)) {
        this.#move(client, this.#lobby);
      }
    },
    rooms: (client) => {
      const rooms = [...this.#rooms.values()]
        .sort((a, b) =>
          a === this.#lobby ? -1 : b === this.#lobby ? 1 : a.name.localeCompare(b.name)
        )
        .map((r) => ({ name: r.name, members: r.members.size, topic: r.topic?.text }));
      this.#send(client, { type: "rooms", ts: Date.now(), rooms });
    },
    topic: (client, cmd) => {
      const room = client.room!;
      const ts = Date.now();
      if (cmd.text === undefined) {
        const { text, by } = room.topic ?? {};
        this.#send(client, { type: "topic", ts, room: room.name, topic: text, by, changed: false });
        return;
      }
      if (this.#silenced(client, "the topic was not changed")) return;
      const by = client.name!;
      try {
        this.#store.setTopic({ room: room.name, topic: cmd.text, by, ts });
      } catch (err) {
        this.#notStored(client, err);
        return;
      }
      room.topic = { text: cmd.text, by };
      this.#log(`topic ${room.name} by ${by}: ${cmd.text}`);
      this.#toRoom(room, {
        type: "topic",
        ts,
        room: room.name,
        topic: cmd.text,
        by,
        changed: true,
      });
    },
    away: (client, cmd) => {
      // The reason is shown to others (/whois, private messages); plain /away is not.
      if (cmd.reason !== undefined && this.#silenced(client, "use /away without a reason")) {
        return;
      }
      client.away = cmd.reason ?? "away";
      this.#system(client, `you are marked as away (${client.away}); /back when you return`);
    },
    back: (client) => {
      const was = client.away;
      client.away = undefined;
      this.#system(client, was === undefined ? "you were not away" : "welcome back");
    },
    whois: (client, cmd) => {
      const target = this.#byName.get(nameKey(cmd.user));
      if (!target) {
        this.#error(client, "unknown-user", `no user named ${cmd.user} is online`);
        return;
      }
      const ts = Date.now();
      this.#send(client, {
        type: "whois",
        ts,
        name: target.name!,
        room: target.room!.name,
        since: target.connectedAt,
        idleSeconds: Math.floor((ts - target.lastInput) / 1000),
        away: target.away,
      });
    },
    ignore: (client, cmd) => {
      if (cmd.user === undefined) {
        const list = [...client.ignored ?? []];
        this.#system(client, list.length ? `you ignore: ${list.join(", ")}` : "you ignore nobody");
        return;
      }
      const problem = nameProblem(cmd.user, this.#opts.limits.maxNameLength);
      if (problem) {
        this.#error(client, "name-invalid", `invalid name: ${problem}`);
      } else if (nameKey(cmd.user) === nameKey(client.name!)) {
        this.#error(client, "usage", "you cannot ignore yourself");
      } else {
        (client.ignored ??= new Set()).add(nameKey(cmd.user));
        this.#system(
          client,
          `you no longer see messages from ${cmd.user} (/unignore ${cmd.user} to undo)`,
        );
      }
    },
    unignore: (client, cmd) => {
      if (client.ignored?.delete(nameKey(cmd.user))) {
        this.#system(client, `you see messages from ${cmd.user} again`);
      } else {
        this.#error(client, "unknown-user", `you are not ignoring ${cmd.user}`);
      }
    },
    motd: (client, cmd) => {
      if (cmd.text !== undefined) {
        if (client.operator) this.#setMotd({ name: client.name!, client }, cmd.text);
        else this.#error(client, "not-allowed", "not allowed: setting the motd is for operators");
        return;
      }
      const lines = this.#motd;
      if (lines?.length) this.#send(client, { type: "motd", ts: Date.now(), lines });
      else this.#system(client, "there is no message of the day");
    },
    changeusername: (client, cmd) => {
      // Everyone sees a rename; choosing a first name is not one.
      if (client.name !== undefined && this.#silenced(client, "your name was not changed")) return;
      this.#rename(client, cmd.nick, cmd.password);
    },
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
        ...(client.passed ? {} : { password: true as const }),
      });
      // The prompt the client is answering, again in the mode it now reads.
      if (!client.passed) this.#passwordPrompt(client, "password:");
      else if (client.claiming !== undefined) {
        this.#passwordPrompt(client, `password for ${client.claiming}:`);
      }
    },
    pass: (client) => this.#system(client, "no password is needed now"),
    op: (client, cmd) => {
      const expected = this.#opts.opPassword;
      if (expected === undefined) {
        this.#error(client, "not-allowed", "this server has no operator password");
      } else if (client.operator) {
        this.#system(client, "you are an operator already");
      } else if (sameSecret(cmd.password, expected)) {
        client.operator = true;
        client.authFailures = 0;
        this.#log(`op ${client.name}`);
        this.#system(client, "you are now an operator");
      } else {
        this.#wrongPassword(client, "wrong operator password", () => {});
      }
    },
    register: (client, cmd) => {
      const name = client.name!;
      if (!this.#store.persistent) {
        this.#error(client, "not-allowed", "registering names needs a server started with --data");
      } else if (this.#store.account(nameKey(name))) {
        this.#error(client, "usage", `${name} is registered already (/unregister first)`);
      } else {
        this.#async(client, hashPassword(cmd.password), (hash) => {
          this.#store.setAccount({ key: nameKey(name), name, hash, ts: Date.now() });
          this.#log(`register ${name}`);
          this.#system(client, `${name} is yours now: taking it needs this password`);
        });
      }
    },
    unregister: (client) => {
      const name = client.name!;
      if (this.#store.removeAccount(nameKey(name))) {
        this.#log(`unregister ${name}`);
        this.#system(client, `${name} is no longer registered`);
      } else {
        this.#error(client, "usage", `${name} is not registered`);
      }
    },
    kick: (client, cmd) => this.#operatorCommand({ name: client.name!, client }, cmd),
    ban: (client, cmd) => this.#operatorCommand({ name: client.name!, client }, cmd),
    unban: (client, cmd) => this.#operatorCommand({ name: client.name!, client }, cmd),
    banned: (client, cmd) => this.#operatorCommand({ name: client.name!, client }, cmd),
    mute: (client, cmd) => this.#operatorCommand({ name: client.name!, client }, cmd),
    unmute: (client, cmd) => this.#operatorCommand({ name: client.name!, client }, cmd),
  };

  // --- naming ----------------------------------------------------------------------

  #rename(client: Client, name: string, password?: string): void {
    const key = nameKey(name);
    const problem = nameProblem(name, this.#opts.limits.maxNameLength);
    const holder = this.#byName.get(key);
    const ban = problem ? undefined : this.#moderation.banned("name", key, Date.now());
    if (problem || (holder && holder !== client) || ban) {
      this.#error(
        client,
        problem ? "name-invalid" : ban ? "name-banned" : "name-taken",
        problem
          ? `invalid name: ${problem}`
          : ban
          ? `the name ${name} is banned ${untilText(ban.until)}; choose another`
          : `the name ${name} is taken; choose another`,
      );
      if (client.name === undefined) this.#prompt(client);
      return;
    }
    const account = client.name !== undefined && nameKey(client.name) === key
      ? undefined // renaming within your own name (case): already proven
      : this.#store.account(key);
    if (account) {
      if (password === undefined) {
        client.claiming = name;
        this.#error(client, "name-registered", `${name} is registered: give its password`);
        this.#passwordPrompt(client, `password for ${name}:`);
        return;
      }
      this.#async(client, verifyPassword(password, account.hash), (ok) => {
        if (!ok) {
          this.#wrongPassword(client, `wrong password for ${name}`, () => {
            if (client.name === undefined) this.#prompt(client);
          });
        } else if (this.#byName.has(key)) {
          // Someone took it while the password was being checked.
          this.#error(client, "name-taken", `the name ${name} is taken; choose another`);
          if (client.name === undefined) this.#prompt(client);
        } else {
          client.authFailures = 0;
          this.#takeName(client, name);
        }
      });
      return;
    }
    this.#takeName(client, name);
  }

  /** Gives a client a name that passed every check: a first join or a rename. */
  #takeName(client: Client, name: string): void {
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
    // Ignoring and replying follow the person, not the old name.
    for (const c of this.#byName.values()) {
      if (c.ignored?.delete(nameKey(previous))) c.ignored.add(nameKey(name));
      if (c.lastPmFrom === previous) c.lastPmFrom = name;
    }
    this.#moderation.renamed(nameKey(previous), nameKey(name));
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
    const motd = this.#motd;
    if (motd?.length) this.#send(client, { type: "motd", ts: Date.now(), lines: motd });
    const lobby = this.#lobby;
    lobby.members.add(client);
    client.room = lobby;
    const members = lobby.members.size;
    this.#roomNotice(
      lobby,
      { type: "join", ts: Date.now(), name, room: LOBBY, count, members },
      client,
    );
    if (lobby.topic) {
      const { text, by } = lobby.topic;
      this.#send(client, {
        type: "topic",
        ts: Date.now(),
        room: LOBBY,
        topic: text,
        by,
        changed: false,
      });
    }
    this.#replay(client, lobby);
    this.#hook("join", { name, address: client.peer.address });
  }

  // --- rooms -----------------------------------------------------------------------

  /** The room named `name`, made if it does not exist. */
  #room(name: string): Room {
    let room = this.#rooms.get(nameKey(name));
    if (!room) this.#rooms.set(nameKey(name), room = new Room(name));
    return room;
  }

  /** Takes a client out of its room; an empty room without a topic is forgotten. */
  #leaveRoom(client: Client, room: Room): void {
    room.members.delete(client);
    client.room = undefined;
    if (room.members.size === 0 && !room.topic && room !== this.#lobby) {
      this.#rooms.delete(nameKey(room.name));
    }
  }

  /** Moves a named client to another room, telling both rooms and replaying history. */
  #move(client: Client, to: Room): void {
    const name = client.name!;
    const from = client.room!;
    const count = this.#byName.size;
    this.#leaveRoom(client, from);
    this.#roomNotice(from, {
      type: "leave",
      ts: Date.now(),
      name,
      room: from.name,
      count,
      members: from.members.size,
      to: to.name,
    });
    to.members.add(client);
    client.room = to;
    this.#log(`move ${name}: ${from.name} -> ${to.name}`);
    const ts = Date.now();
    this.#roomNotice(to, {
      type: "join",
      ts,
      name,
      room: to.name,
      count,
      members: to.members.size,
      moved: true,
    }, client);
    this.#send(client, {
      type: "room",
      ts,
      room: to.name,
      names: [...to.members].map((c) => c.name!),
      topic: to.topic?.text,
    });
    this.#replay(client, to);
  }

  /** Sends the room's recent history to a newcomer, marked as history. */
  #replay(client: Client, room: Room): void {
    const limit = this.#opts.limits.historyLines;
    if (limit <= 0) return;
    for (const m of this.#store.recent(room.name, limit)) {
      if (client.ignored?.has(nameKey(m.from))) continue;
      this.#send(client, {
        type: m.kind,
        ts: m.ts,
        from: m.from,
        room: room.name,
        text: m.text,
        history: true,
      });
    }
  }

  #freeGuestName(): string {
    for (;;) {
      const name = `guest-${++this.#guestCounter}`;
      if (!this.#byName.has(name)) return name;
    }
  }

  #prompt(client: Client): void {
    this.#send(client, { type: "prompt", ts: Date.now(), for: "name", text: "choose a name:" });
  }

  #passwordPrompt(client: Client, text: string): void {
    this.#send(client, { type: "prompt", ts: Date.now(), for: "password", text });
  }

  // --- messages --------------------------------------------------------------------

  #twoStep(client: Client, target: Target, text: string | undefined): void {
    if (text !== undefined) {
      this.#deliver(client, target, text);
      return;
    }
    client.pending = target;
    const to = target.kind === "private"
      ? target.to
      : target.kind === "group"
      ? target.to.join(", ")
      : client.room!.name;
    this.#system(client, `type your message to ${to} on the next line`);
  }

  #deliver(client: Client, target: Target, text: string): void {
    const from = client.name!;
    if (this.#silenced(client, "nothing was sent")) return;
    const to = target.kind === "private" ? [target.to] : target.kind === "group" ? target.to : [];
    const rewritten = this.#hook("message", { from, kind: target.kind, to: [...to], text });
    if (rewritten === false) return;
    if (typeof rewritten === "string") text = sanitize(rewritten);
    if (text === "") return;
    const ts = Date.now();
    if (target.kind === "public" || target.kind === "action") {
      const room = client.room!;
      const kind = target.kind === "public" ? "message" : "action";
      try {
        this.#store.append({ room: room.name, kind, from, text, ts });
      } catch (err) {
        this.#notStored(client, err);
        return;
      }
      this.#log(`${kind} ${room.name} ${from}: ${text}`);
      this.#toRoom(room, { type: kind, ts, from, room: room.name, text }, client);
      return;
    }
    const found: Client[] = [];
    for (const name of to) {
      const c = this.#byName.get(nameKey(name));
      if (!c) {
        this.#error(client, "unknown-user", `no user named ${name} is online`);
      } else if (c === client) {
        if (target.kind === "private") this.#error(client, "usage", "that is you");
      } else if (!found.includes(c)) {
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
    const fromKey = nameKey(from);
    for (const c of found) {
      // Someone ignoring the sender gets nothing; the sender is not told.
      if (c.ignored?.has(fromKey)) continue;
      this.#write(c, out);
      if (target.kind === "private") c.lastPmFrom = from;
    }
    this.#send(client, { type: "sent", ts, kind: target.kind, to: names, text });
    for (const c of found) {
      if (c.away !== undefined) this.#system(client, `${c.name} is away: ${c.away}`);
    }
  }

  /**
   * Whether a mute (on the client's name, or on a range holding its address) keeps it from
   * being heard; if so it is told, with `outcome`. Operators are never muted.
   */
  #silenced(client: Client, outcome: string): boolean {
    const mute = this.#muteOf(client);
    if (!mute) return false;
    const why = mute.reason ? ` (${mute.reason})` : "";
    this.#error(client, "muted", `you are muted ${untilText(mute.until)}${why}; ${outcome}`);
    return true;
  }

  /** The mute on the client's name or on a range holding its address, if any. */
  #muteOf(client: Client): StoredMute | undefined {
    if (client.operator) return undefined;
    const key = client.name === undefined ? undefined : nameKey(client.name);
    return this.#moderation.muted(key, client.peer.address, Date.now());
  }

  #notStored(client: Client, err: unknown): void {
    this.#log(`store failed: ${describe(err)}`);
    this.#error(client, "not-stored", "the server could not store that; it was not sent");
  }

  #announce(text: string): void {
    this.#log(`announce: ${text}`);
    this.#broadcast({ type: "announce", ts: Date.now(), from: "server", text });
  }

  // --- operators -------------------------------------------------------------------

  /** An operator command from a client or the console; replies go back to whoever asked. */
  #operatorCommand(
    actor: Actor,
    cmd: CommandOf<"kick" | "ban" | "unban" | "banned" | "mute" | "unmute">,
  ): void {
    const now = Date.now();
    const reply = (text: string, error = false) => {
      if (!actor.client) this.#log(`console: ${text}`);
      else if (error) this.#error(actor.client, "usage", text);
      else this.#system(actor.client, text);
    };
    /** Runs a ban or mute's store write; false, with the reason told, when the store fails. */
    const stored = (write: () => void): boolean => {
      try {
        write();
        return true;
      } catch (err) {
        this.#log(`store failed: ${describe(err)}`);
        reply(`/${cmd.name} could not be stored: ${describe(err)}`, true);
        return false;
      }
    };
    switch (cmd.name) {
      case "kick":
        if (!this.kick(cmd.user, cmd.reason, actor.name)) {
          reply(`no user named ${cmd.user} is online`, true);
        }
        return;
      case "ban": {
        const t = parseTarget(cmd.target, this.#opts.limits.maxNameLength);
        if (typeof t === "string") return reply(t, true);
        const until = cmd.ms === undefined ? undefined : now + cmd.ms;
        const ban = { ...t, until, reason: cmd.reason, by: actor.name, ts: now };
        if (!stored(() => this.#moderation.ban(ban))) return;
        this.#log(`ban ${t.kind} ${t.target} ${untilText(until)} by ${actor.name}`);
        reply(`banned ${t.target} ${untilText(until)}`);
        const why = `banned by ${actor.name}${cmd.reason ? `: ${cmd.reason}` : ""}`;
        // Everyone the ban covers goes, but the operator who typed it.
        for (const c of [...this.#clients]) {
          if (c !== actor.client && covers(t, c)) {
            this.#bye(c, why);
            this.disconnect(c, "banned");
          }
        }
        return;
      }
      case "unban": {
        const t = parseTarget(cmd.target);
        if (typeof t === "string") return reply(t, true);
        const shown = t.kind === "ip" ? t.target : cmd.target;
        let lifted = false;
        if (!stored(() => lifted = this.#moderation.unban(t.kind, t.target, now))) return;
        if (lifted) {
          this.#log(`unban ${t.kind} ${t.target} by ${actor.name}`);
          reply(`${shown} is no longer banned`);
        } else {
          reply(`${shown} is not banned`, true);
        }
        return;
      }
      case "banned": {
        const bans = this.#moderation.bans(now);
        reply(bans.length === 0 ? "nobody is banned" : `${bans.length} banned:`);
        for (const b of bans) {
          reply(
            `  ${b.kind} ${b.target} ${untilText(b.until)} by ${b.by}${
              b.reason ? ` (${b.reason})` : ""
            }`,
          );
        }
        return;
      }
      case "mute": {
        const t = parseTarget(cmd.target, this.#opts.limits.maxNameLength);
        if (typeof t === "string") return reply(t, true);
        const online = t.kind === "name" ? this.#byName.get(t.target) : undefined;
        const ip = online && hostAddress(online.peer.address);
        // A name mute keeps the user's address too: a new name from there is still muted.
        const address = ip && formatIp(ip);
        const until = cmd.ms === undefined ? undefined : now + cmd.ms;
        const mute = { ...t, address, until, reason: cmd.reason, by: actor.name, ts: now };
        if (!stored(() => this.#moderation.mute(mute))) return;
        const who = online?.name ?? t.target;
        this.#log(`mute ${t.kind} ${who}${address ? ` at ${address}` : ""} by ${actor.name}`);
        const why = cmd.reason ? ` (${cmd.reason})` : "";
        for (const c of this.#byName.values()) {
          if (c === online || (t.kind === "ip" && covers(t, c))) {
            this.#system(c, `you are muted ${untilText(until)}${why}`);
          }
        }
        reply(
          `muted ${who} ${untilText(until)}${
            address ? ` (the name and ${address})` : t.kind === "name" ? " (the name)" : ""
          }`,
        );
        return;
      }
      case "unmute": {
        const t = parseTarget(cmd.target);
        if (typeof t === "string") return reply(t, true);
        const shown = t.kind === "ip" ? t.target : cmd.target;
        const muted = [...this.#byName.values()].filter((c) => this.#muteOf(c));
        let lifted = false;
        if (!stored(() => lifted = this.#moderation.unmute(t.kind, t.target, now))) return;
        if (!lifted) return reply(`${shown} is not muted`, true);
        this.#log(`unmute ${t.kind} ${t.target} by ${actor.name}`);
        reply(`${shown} may speak again`);
        for (const c of muted) if (!this.#muteOf(c)) this.#system(c, "you may speak again");
        return;
      }
    }
  }

  #setMotd(actor: Actor, text: string): void {
    this.#motd = [text];
    this.#log(`motd set by ${actor.name}: ${text}`);
    if (actor.client) this.#system(actor.client, "the message of the day is set");
    else this.#log("console: the message of the day is set");
  }

  /**
   * Runs async work for a client (a password hash) while holding its input; `then` runs
   * after, unless the client left meanwhile.
   */
  #async<T>(client: Client, work: Promise<T>, then: (value: T) => void): void {
    client.held ??= [];
    work.then((value) => {
      if (client.closing) return;
      try {
        then(value);
      } catch (err) {
        this.#log(`error for ${this.#who(client)}: ${describe(err)}`);
        this.#error(client, "internal", "the server could not finish that");
      }
      if (!client.timer) this.#release(client);
    }, (err) => {
      this.#log(`error for ${this.#who(client)}: ${describe(err)}`);
      this.#error(client, "internal", "the server could not finish that");
      this.#release(client);
    });
  }

  // --- output ----------------------------------------------------------------------

  /** Sends to every named client except `except`, encoding once per output mode. */
  #broadcast(event: ServerEvent, except?: Client): void {
    const out = new Outgoing(event);
    for (const c of this.#byName.values()) if (c !== except) this.#write(c, out);
  }

  /**
   * A join or leave notice for the room, unless the room (counting the one coming or going)
   * is bigger than `announceUpTo`: in a crowd, every arrival told to everyone is noise, and
   * it makes filling a room quadratic.
   */
  #roomNotice(
    room: Room,
    event: Extract<ServerEvent, { type: "join" | "leave" }>,
    except?: Client,
  ): void {
    const max = this.#opts.limits.announceUpTo;
    const crowd = event.type === "join" ? event.members : event.members + 1;
    if (max === 0 || crowd <= max) this.#toRoom(room, event, except);
  }

  /**
   * Sends to a room's members except `except`, encoding once per output mode; a message
   * or action skips members who ignore its sender.
   */
  #toRoom(room: Room, event: ServerEvent, except?: Client): void {
    const out = new Outgoing(event);
    const from = event.type === "message" || event.type === "action"
      ? nameKey(event.from)
      : undefined;
    for (const c of room.members) {
      if (c !== except && (from === undefined || !c.ignored?.has(from))) this.#write(c, out);
    }
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

/** Whether a ban or mute's target covers a client: its name key, or a range with its address. */
function covers(t: SanctionTarget, c: Client): boolean {
  if (t.kind === "name") return c.name !== undefined && nameKey(c.name) === t.target;
  const ip = hostAddress(c.peer.address);
  return ip !== undefined && contains(parseIp(t.target), ip);
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

/** A one-line description of a thrown value. */
export function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
