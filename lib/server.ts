// ChatServer: the embeddable server. It listens, gives each connection a Session wired
// to the Hub, and shuts down gracefully. Command-line parsing and the console's stdin
// live in server.ts; the chat itself lives in hub.ts.

import { Outgoing } from "./events.ts";
import type { FramerSink } from "./framing.ts";
import { type ChatHooks, type Client, describe, Hub } from "./hub.ts";
import { DEFAULT_LIMITS, type Limits } from "./limits.ts";
import { Session, type SessionOptions } from "./session.ts";
import { type ChatStore, SqliteStore } from "./store.ts";
import { VERSION } from "./version.ts";

/** How to start a {@link ChatServer}. */
export interface ChatServerOptions {
  /** Address to listen on; default `0.0.0.0`. */
  hostname?: string;
  /** Port to listen on; 0 (the default here) picks a free one. */
  port?: number;
  /** Limits to override; the rest keep their defaults. */
  limits?: Partial<Limits>;
  /** Give each newcomer a free `guest-N` name at once (seed 001). */
  autoName?: boolean;
  hooks?: ChatHooks;
  /** Receives each server log line (no timestamp); silent when absent. */
  log?: (line: string) => void;
  /** A SQLite file for history and topics that outlast the process; in memory when absent. */
  dataFile?: string;
  /** The message of the day, shown on joining and by /motd. */
  motd?: string[];
  /** The password every client must give before choosing a name. */
  password?: string;
  /** The password that makes a user an operator with /op. */
  opPassword?: string;
  /**
   * Serve TLS with this certificate and key (PEM). Without `port`, the server's one port
   * is TLS; with it, plain TCP stays on `port` above and TLS is served on this one too.
   */
  tls?: { cert: string; key: string; port?: number };
}

/**
 * A running chat server.
 *
 * @example
 * ```ts
 * await using server = ChatServer.listen({ port: 0, hooks: { join: ({ name }) => console.log(name) } });
 * console.log(server.addr.port);
 * ```
 */
export class ChatServer implements AsyncDisposable {
  /** Where the server listens (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** Where TLS is served, when it is (the same as `addr` when TLS is the only port). */
  readonly tlsAddr: Deno.NetAddr | undefined;
  /** The limits in force. */
  readonly limits: Readonly<Limits>;
  readonly #listeners: Deno.Listener[];
  readonly #hub: Hub;
  readonly #log: (line: string) => void;
  readonly #sessions = new Set<Promise<void>>();
  /** Open connections per remote IP address, for `maxPerIp`. */
  readonly #perIp = new Map<string, number>();
  readonly #accepting: Promise<void[]>;
  readonly #sweeper: ReturnType<typeof setInterval> | undefined;
  readonly #store: ChatStore | undefined;
  /** The one options object every session shares. */
  readonly #sessionOptions: SessionOptions;
  #stopping: Promise<void> | undefined;

  private constructor(
    listeners: { main: Deno.Listener; tls?: Deno.Listener },
    store: ChatStore | undefined,
    options: ChatServerOptions,
  ) {
    this.#listeners = [listeners.main, ...(listeners.tls ? [listeners.tls] : [])];
    this.#store = store;
    this.addr = listeners.main.addr as Deno.NetAddr;
    this.tlsAddr = (listeners.tls ?? (options.tls ? listeners.main : undefined))?.addr as
      | Deno.NetAddr
      | undefined;
    this.limits = Object.freeze({ ...DEFAULT_LIMITS, ...options.limits });
    this.#sessionOptions = {
      maxLineBytes: this.limits.maxLineBytes,
      maxOutboxBytes: this.limits.maxOutboxBytes,
      flushMs: this.limits.shutdownFlushMs,
    };
    this.#log = options.log ?? (() => {});
    this.#hub = new Hub({
      limits: this.limits,
      autoName: options.autoName,
      hooks: options.hooks,
      log: this.#log,
      version: VERSION,
      store,
      motd: options.motd,
      password: options.password,
      opPassword: options.opPassword,
    });
    this.#accepting = Promise.all(this.#listeners.map((l) => this.#acceptLoop(l)));
    const { nameTimeoutMs, idleTimeoutMs } = this.limits;
    const shortest = Math.min(...[nameTimeoutMs, idleTimeoutMs].filter((ms) => ms > 0));
    if (Number.isFinite(shortest)) {
      // One timer for every connection: closing to within a quarter of the limit.
      this.#sweeper = setInterval(
        () => this.#hub.sweep(),
        Math.min(1000, Math.max(10, shortest / 4)),
      );
    }
  }

  /**
   * Opens the data file (if any) and starts listening; throws if either fails (Deno's
   * AddrInUse or PermissionDenied, or SQLite's error for a bad data file).
   */
  static listen(options: ChatServerOptions = {}): ChatServer {
    const store = options.dataFile === undefined ? undefined : new SqliteStore(options.dataFile);
    const opened: Deno.Listener[] = [];
    try {
      const hostname = options.hostname ?? "0.0.0.0";
      const port = options.port ?? 0;
      const tls = options.tls;
      const listenTls = (p: number) =>
        Deno.listenTls({ hostname, port: p, cert: tls!.cert, key: tls!.key, transport: "tcp" });
      const main = tls && tls.port === undefined
        ? listenTls(port)
        : Deno.listen({ hostname, port, transport: "tcp" });
      opened.push(main);
      const extra = tls?.port === undefined ? undefined : listenTls(tls.port);
      if (extra) opened.push(extra);
      return new ChatServer({ main, tls: extra }, store, options);
    } catch (err) {
      for (const l of opened) l.close();
      store?.close();
      throw err;
    }
  }

  /** Names online, in join order. */
  get names(): string[] {
    return this.#hub.names;
  }

  /** Open connections, named or not. */
  get connectionCount(): number {
    return this.#hub.connectionCount;
  }

  /** Handles a line typed at the operator console; `"stop"` means the operator asked to stop. */
  console(line: string): "stop" | undefined {
    return this.#hub.console(line);
  }

  /** Disconnects a user with a reason; false when nobody has that name. */
  kick(name: string, reason?: string): boolean {
    return this.#hub.kick(name, reason);
  }

  /**
   * Tells every client, flushes their queued output (bounded by `shutdownFlushMs`),
   * closes the listener and every connection. Safe to call more than once.
   */
  shutdown(reason = "server shutting down"): Promise<void> {
    return this.#stopping ??= this.#shutdown(reason);
  }

  async #shutdown(reason: string): Promise<void> {
    this.#log(`shutdown: ${reason}`);
    clearInterval(this.#sweeper);
    for (const listener of this.#listeners) {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
    }
    await this.#accepting;
    this.#hub.shutdown(reason);
    await Promise.all(this.#sessions);
    this.#store?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  async #acceptLoop(listener: Deno.Listener): Promise<void> {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (this.#stopping || err instanceof Deno.errors.BadResource) return;
        // Out of file descriptors and the like: log, back off briefly, keep serving.
        this.#log(`accept failed: ${describe(err)}`);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (this.#stopping) {
        conn.close();
        continue;
      }
      this.#serve(conn);
    }
  }

  /** Why a new connection from `ip` is refused, or undefined to serve it. */
  #refusal(ip: string): string | undefined {
    const banned = this.#hub.bannedAddress(ip);
    if (banned) return banned;
    const { maxClients, maxPerIp } = this.limits;
    if (maxClients > 0 && this.#hub.connectionCount >= maxClients) {
      return `server full (${maxClients} connections); try again later`;
    }
    if (maxPerIp > 0 && (this.#perIp.get(ip) ?? 0) >= maxPerIp) {
      return `too many connections from your address (limit ${maxPerIp})`;
    }
    return undefined;
  }

  #serve(conn: Deno.Conn): void {
    const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
    const refusal = this.#refusal(ip);
    if (refusal) {
      this.#log(`refused ${ip}: ${refusal}`);
      this.#track(refuse(conn, refusal, this.limits.shutdownFlushMs));
      return;
    }
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    this.#track(this.#connection(conn, ip));
  }

  /** One connection's life: read its lines into the hub until it ends, then forget it. */
  async #connection(conn: Deno.Conn, ip: string): Promise<void> {
    const session = new Session(conn, this.#sessionOptions);
    const client = this.#hub.connect(session);
    try {
      await session.run(new ClientLines(this.#hub, client));
    } finally {
      const left = (this.#perIp.get(ip) ?? 1) - 1;
      if (left > 0) this.#perIp.set(ip, left);
      else this.#perIp.delete(ip);
      this.#hub.disconnect(client, session.reason);
    }
  }

  /** Keeps a connection's task until it ends, so shutdown can wait for it. */
  #track(task: Promise<void>): void {
    const tracked: Promise<void> = task.then(
      () => void this.#sessions.delete(tracked),
      (err) => {
        this.#log(`connection task failed: ${describe(err)}`);
        this.#sessions.delete(tracked);
      },
    );
    this.#sessions.add(tracked);
  }
}

/** Where one connection's lines go: its client in the hub (no closures per connection). */
class ClientLines implements FramerSink {
  constructor(readonly hub: Hub, readonly client: Client) {}

  line(text: string): void {
    this.hub.input(this.client, text);
  }

  overlong(): void {
    this.hub.overlong(this.client);
  }
}

/**
 * Sends one line saying why, then closes; waits at most `ms` (over TLS the write waits for
 * a handshake the newcomer may never finish).
 */
async function refuse(conn: Deno.Conn, reason: string, ms: number): Promise<void> {
  const close = () => {
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  };
  const timer = setTimeout(close, ms);
  try {
    await conn.write(new Outgoing({ type: "bye", ts: Date.now(), reason }).bytes("text"));
  } catch {
    // The newcomer is gone already.
  } finally {
    clearTimeout(timer);
    close();
  }
}
