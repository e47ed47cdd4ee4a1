// The chat over plain data: Hub wires the parts in lib/server/hub/ (client, directory, rooms, prompts,
// naming, operators, flood, messages, delivery, handlers, hooks, failures, input, console) and
// keeps sweep and prune. It never sees a socket: a Peer takes bytes; session.ts does the rest.

import type { Limits } from "./limits.ts";
import { Moderation } from "./moderation.ts";
import { Reclaimer } from "./reclaim.ts";
import { sanitizeLabel } from "../protocol/sanitize.ts";
import { type ChatStore, MemoryStore } from "./store.ts";
import { describe, Failures } from "./hub/failures.ts";
import { type ChatHooks, Hooks } from "./hub/hooks.ts";
import { ServerConsole } from "./hub/console.ts";
import { Delivery } from "./hub/delivery.ts";
import { Directory } from "./hub/directory.ts";
import { Flood } from "./hub/flood.ts";
import { Messages } from "./hub/messages.ts";
import { handlers } from "./hub/handlers.ts";
import { Input } from "./hub/input.ts";
import { Naming } from "./hub/naming.ts";
import { Operators } from "./hub/operators.ts";
import { type Prompt, PromptMachine } from "./hub/prompts.ts";
import { Rooms } from "./hub/rooms.ts";
import { Client, type Peer, who } from "./hub/client.ts";

export type { ChatHooks, Prompt };
export type { MessageInfo, MessageKind } from "./hub/hooks.ts";
export { Client, describe, type Peer };

/** Connections open at a peak that, once half of them have closed, make a burst worth reclaiming. */
const RECLAIM_AFTER_CONNECTIONS = 20;

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
  /** Keep the text of private and group messages out of the log (who to whom stays). */
  hidePrivateText?: boolean;
}

/** The chat: named clients in rooms, with routing, commands and the console. */
export class Hub {
  readonly #opts: HubOptions;
  readonly #store: ChatStore;
  readonly #clients = new Set<Client>();
  readonly #names = new Directory();
  readonly #rooms: Rooms;
  readonly #moderation: Moderation;
  /** Most connections open since memory was last reclaimed. */
  #connectionPeak = 0;
  readonly #reclaimer = new Reclaimer(undefined, (before, after) => {
    const mib = (n: number) => (n / 1048576).toFixed(1);
    this.#log(
      `memory reclaimed: heap ${mib(before.heapUsed)} -> ${mib(after.heapUsed)} MiB, ` +
        `RSS ${mib(before.rss)} -> ${mib(after.rss)} MiB`,
    );
  });
  readonly #out: Delivery;
  readonly #ops: Operators;
  readonly #prompts: PromptMachine;
  readonly #flood: Flood;
  readonly #messages: Messages;
  readonly #naming: Naming;
  readonly #input: Input;
  readonly #console: ServerConsole;
  readonly #hooks: Hooks;
  readonly #failures: Failures;

  constructor(options: HubOptions) {
    this.#opts = options;
    const limits = options.limits;
    this.#store = options.store ?? new MemoryStore(options.limits.historyLines, options.limits);
    this.#moderation = new Moderation(this.#store);
    this.#out = new Delivery(limits.announceUpTo, this.#names.byKey);
    this.#hooks = new Hooks({ hooks: options.hooks, log: (line) => this.#log(line) });
    this.#failures = new Failures({ out: this.#out, log: (line) => this.#log(line), who });
    this.#rooms = new Rooms(
      this.#store,
      limits,
      (what, err) => this.#log(`store failed ${what}: ${describe(err)}`),
      () => this.#reclaimer.schedule(),
    );
    this.#ops = new Operators({
      limits,
      clients: this.#clients,
      names: this.#names,
      rooms: this.#rooms,
      moderation: this.#moderation,
      out: this.#out,
      log: (line) => this.#log(line),
      storeFailed: (err) => this.#log(`store failed: ${describe(err)}`),
      kick: (name, reason, by) => this.kick(name, reason, by),
      disconnect: (client, reason) => this.disconnect(client, reason),
    }, options.motd);
    this.#flood = new Flood({
      limits,
      out: this.#out,
      log: (line) => this.#log(line),
      who,
      disconnect: (client, reason) => this.disconnect(client, reason),
    });
    this.#messages = new Messages({
      limits,
      names: this.#names,
      rooms: this.#rooms,
      out: this.#out,
      hidePrivateText: options.hidePrivateText,
      log: (line) => this.#log(line),
      silenced: (client, outcome) => this.#ops.silenced(client, outcome),
      rewrite: (info) => this.#hooks.call("message", info),
      notStored: (client, err) => this.#failures.notStored(client, err),
    });
    this.#prompts = new PromptMachine({
      limits,
      out: this.#out,
      password: options.password,
      log: (line) => this.#log(line),
      logError: (what, err) => this.#log(`${what}: ${describe(err)}`),
      who,
      reclaim: () => this.#reclaimer.schedule(),
      handle: (client, line) => this.#input.handle(client, line),
      command: (client, cmd) => this.#input.command(client, cmd),
      rename: (client, name, password) => this.#naming.rename(client, name, password),
      back: (client) => this.#naming.back(client),
      admitted: (client) => this.#admitted(client),
      disconnect: (client, reason) => this.disconnect(client, reason),
      failed: (client, err, what) => this.#failures.failed(client, err, what),
    });
    this.#naming = new Naming({
      limits,
      names: this.#names,
      rooms: this.#rooms,
      moderation: this.#moderation,
      accounts: this.#store,
      out: this.#out,
      prompts: this.#prompts,
      motd: () => this.#ops.motd,
      log: (line) => this.#log(line),
      storeFailed: (what, err) => this.#log(`store failed ${what}: ${describe(err)}`),
      joined: (info) => this.#hooks.call("join", info),
      renamed: (info) => this.#hooks.call("rename", info),
    });
    this.#input = new Input({
      limits,
      names: this.#names,
      rooms: this.#rooms,
      out: this.#out,
      flood: this.#flood,
      prompts: this.#prompts,
      messages: this.#messages,
      naming: this.#naming,
      handlers: handlers({
        limits,
        clients: this.#clients,
        names: this.#names,
        rooms: this.#rooms,
        store: this.#store,
        out: this.#out,
        ops: this.#ops,
        flood: this.#flood,
        messages: this.#messages,
        naming: this.#naming,
        prompts: this.#prompts,
        opPassword: options.opPassword,
        log: (line) => this.#log(line),
        notStored: (client, err) => this.#failures.notStored(client, err),
        disconnect: (client, reason) => this.disconnect(client, reason),
      }),
      log: (line) => this.#log(line),
      who,
      commanded: (info) => this.#hooks.call("command", info),
      failed: (client, err, what) => this.#failures.failed(client, err, what),
    });
    this.#console = new ServerConsole({
      names: this.#names,
      online: () => this.names,
      ops: this.#ops,
      out: this.#out,
      log: (line) => this.#log(line),
    });
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
    this.#connectionPeak = Math.max(this.#connectionPeak, this.#clients.size);
    this.#log(`connect ${peer.address} (${this.#clients.size} connections)`);
    this.#hooks.call("connect", { address: peer.address });
    this.#out.send(client, {
      type: "welcome",
      ts: Date.now(),
      server: "linechat",
      version: this.#opts.version,
      text: `welcome to linechat ${this.#opts.version} (${this.#names.size} online)`,
      ...this.#flood.pace,
    });
    if (this.#opts.password !== undefined) {
      client.prompt = { for: "password", about: "server" };
      this.#prompts.askPassword(client);
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
    return this.#ops.bannedAddress(ip, now);
  }

  /** A client is in (no password needed, or it gave it): it gets a name or is asked for one. */
  #admitted(client: Client): void {
    if (this.#opts.autoName) {
      client.prompt = { for: "ready" };
      this.#naming.join(client, this.#names.freeGuestName(), true);
    } else {
      client.prompt = { for: "name" };
      this.#prompts.askName(client);
    }
  }

  /** Handles one input line from a client. Never throws. */
  input(client: Client, line: string, now = Date.now()): void {
    this.#input.line(client, line, now);
  }

  /** Tells a client its line was longer than the limit and was discarded. */
  overlong(client: Client, now = Date.now()): void {
    this.#input.overlong(client, now);
  }

  /** Forgets a connection that has closed; others see it leave. Safe to call twice. */
  disconnect(client: Client, reason?: string): void {
    if (!this.#clients.delete(client)) return;
    client.closing = true;
    clearTimeout(client.timer);
    if (
      this.#connectionPeak >= RECLAIM_AFTER_CONNECTIONS &&
      this.#clients.size <= this.#connectionPeak / 2
    ) {
      // A burst of connections is over: give its memory back once things settle.
      this.#connectionPeak = this.#clients.size;
      this.#reclaimer.schedule();
    }
    const name = client.name;
    if (name !== undefined) {
      this.#names.remove(name);
      const count = this.#names.size;
      this.#log(`leave ${name}${reason ? ` (${reason})` : ""} (${count} online)`);
      // One notice for each who shared a room with it, however many rooms they shared.
      this.#out.quitNotice(client, {
        type: "quit",
        ts: Date.now(),
        name,
        count,
        ...(reason ? { reason } : {}),
      });
      for (const room of [...client.rooms]) this.#rooms.leave(client, room);
      this.#hooks.call("leave", { name, reason });
    }
    this.#log(
      `disconnect ${client.peer.address}${
        reason ? ` (${reason})` : ""
      } (${this.#clients.size} connections)`,
    );
    this.#hooks.call("disconnect", { address: client.peer.address, name, reason });
  }

  /** Tells every client the server is going away and closes them. */
  shutdown(reason = "server shutting down"): void {
    this.#reclaimer.close();
    for (const client of this.#clients) this.#out.bye(client, reason);
  }

  /**
   * Handles a line typed at the server's console (seed 003), which is always an operator:
   * `/users`, `/kick`, `/ban` and the other operator commands, `/motd TEXT`, `/help`;
   * `/quit` or `exit` returns `"stop"`; anything else goes to everyone.
   */
  console(line: string): "stop" | undefined {
    return this.#console.line(line);
  }

  /** Disconnects the named user with a reason; false when nobody has that name. */
  kick(name: string, reason?: string, by = "the server"): boolean {
    const target = this.#names.get(name);
    if (!target) return false;
    const clean = reason ? sanitizeLabel(reason) : "";
    this.#log(`kick ${target.name} by ${by}${clean ? ` (${clean})` : ""}`);
    this.#out.bye(target, `kicked by ${by}${clean ? `: ${clean}` : ""}`);
    this.disconnect(target, "kicked");
    return true;
  }

  /** Drops stored history past its retention (bounded work); a store error is logged. */
  prune(now = Date.now()): void {
    try {
      this.#store.prune(now);
    } catch (err) {
      this.#log(`store failed pruning history: ${describe(err)}`);
    }
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
        this.#out.bye(client, `no name chosen within ${seconds(nameTimeoutMs)}`);
        this.disconnect(client, "no name chosen");
      } else if (idleTimeoutMs > 0 && now - client.lastInput >= idleTimeoutMs) {
        this.#log(`timeout ${who(client)}: idle`);
        this.#out.bye(client, `idle for ${seconds(idleTimeoutMs)}`);
        this.disconnect(client, "idle");
      }
    }
  }

  // --- log and hooks ---------------------------------------------------------------

  #log(line: string): void {
    this.#opts.log?.(line);
  }
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}
