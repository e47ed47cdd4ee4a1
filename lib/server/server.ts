// ChatServer: the embeddable server. It listens, counts and caps open sockets, gives each
// connection a Session wired to the Hub (over TLS through tls_transport.ts; IRC through the
// door in irc/door.ts), and shuts down gracefully. Command-line parsing and the console live in server.ts; the chat in hub.ts.

import type { SecureContext } from "node:tls";
import { sourceKey } from "../protocol/address.ts";
import { Outgoing } from "../protocol/events.ts";
import type { FramerSink } from "../protocol/framing.ts";
import { type ChatHooks, type Client, describe, Hub } from "./hub.ts";
import { DEFAULT_LIMITS, type Limits } from "./limits.ts";
import { addressText, Session, type SessionOptions, type Transport } from "./session.ts";
import { type ChatStore, SqliteStore } from "./store.ts";
import type { Engine } from "./engine/engine.ts";
import { tlsContext, TlsTransport } from "./tls_transport.ts";
import { pastProxyLine, ProxySources } from "./proxy_protocol.ts";
import { VERSION } from "../protocol/version.ts";
import { WebDoor } from "./web/door.ts";
import { IrcDoor, IrcIdentities } from "./irc/door.ts";
import { IRC_LINE_BYTES, ircLine } from "./irc/render.ts";

/** The first pause after a failed accept; it doubles on each failure in a row. */
const ACCEPT_BACKOFF_MIN_MS = 10;
/** The longest pause between accepts while they keep failing. */
const ACCEPT_BACKOFF_MAX_MS = 1000;

/** How often stored history is pruned to its retention (each call does bounded work). */
const PRUNE_EVERY_MS = 1000;

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
  /**
   * What several nodes share (engine/engine.ts), closed at shutdown. A shared one (Redis)
   * makes names unique across nodes; the rest is in progress (README, "Cluster (in progress)").
   */
  engine?: Engine;
  /** How long a silent node keeps its names (ms); default 10 s. */
  nodeTimeoutMs?: number;
  /**
   * What lasts, kept by the caller's store instead of `dataFile` (a cluster's, over the
   * engine: see hub/cluster_store.ts); closed with the server.
   */
  store?: ChatStore;
  /** The message of the day, shown on joining and by /motd. */
  motd?: string[];
  /** The password every client must give before choosing a name. */
  password?: string;
  /** The password that makes a user an operator with /op. */
  opPassword?: string;
  /** Keep the text of private and group messages out of the log (who to whom stays). */
  hidePrivateText?: boolean;
  /**
   * Serve TLS with this certificate and key (PEM). Without `port`, the server's one port
   * is TLS; with it, plain TCP stays on `port` above and TLS is served on this one too.
   */
  tls?: { cert: string; key: string; port?: number };
  /**
   * Serve the web page and its WebSocket on this port (https and wss with `tls`), on the same
   * host; `origins` are the pages elsewhere allowed to connect, besides the server's own.
   */
  web?: { port: number; origins?: string[] };
  /**
   * Serve IRC through the door: plain on `port`, and over TLS (with `tls`'s certificate) on
   * `tlsPort`; `name` is the server name IRC clients see.
   */
  irc?: { name: string; port?: number; tlsPort?: number };
  /**
   * Load balancers (addresses or CIDR ranges) whose connections start with a PROXY protocol
   * v1 line naming the client (HAProxy `send-proxy`, nginx `proxy_protocol on`), on every
   * port (chat, TLS, IRC, web); nobody else may send one.
   */
  proxyFrom?: string[];
}

/** One listening socket: TLS or not, IRC or linechat's own lines. */
interface Listening {
  listener: Deno.Listener;
  tls: SecureContext | undefined;
  irc: boolean;
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
  /** Where the web door listens, when there is one. */
  readonly webAddr: Deno.NetAddr | undefined;
  /** Where IRC is served in plain text and over TLS, when it is. */
  readonly ircAddr: Deno.NetAddr | undefined;
  readonly ircTlsAddr: Deno.NetAddr | undefined;
  /** The limits in force. */
  readonly limits: Readonly<Limits>;
  /** Each listener, with the TLS context its connections are served with (if any). */
  readonly #listeners: Listening[];
  readonly #hub: Hub;
  readonly #web: WebDoor | undefined;
  readonly #log: (line: string) => void;
  readonly #sessions = new Set<Promise<void>>();
  /** Sessions running, for the dead-peer check. */
  readonly #running = new Set<Session>();
  /** Sockets open, from accept to close, for `maxClients`. */
  #sockets = 0;
  /** Sockets open per source (an IPv4 address, an IPv6 /64), accept to close, for `maxPerIp`. */
  readonly #perIp = new Map<string, number>();
  /** TLS connections still in their handshake (the hub does not know them yet). */
  readonly #handshaking = new Set<TlsTransport>();
  /** Balancers' connections whose PROXY line is still awaited (closed at shutdown). */
  readonly #proxying = new Set<Deno.Conn>();
  readonly #proxies: ProxySources | undefined;
  /** Wakes accept loops pausing after a failed accept, at shutdown. */
  readonly #pauses = new Set<() => void>();
  readonly #acceptFailures: AcceptFailures;
  readonly #accepting: Promise<void[]>;
  readonly #sweeper: ReturnType<typeof setInterval> | undefined;
  readonly #store: ChatStore | undefined;
  readonly #engine: Engine | undefined;
  /** The one options object every session shares. */
  readonly #sessionOptions: SessionOptions;
  readonly #ircOptions: SessionOptions;
  readonly #irc: ChatServerOptions["irc"];
  readonly #started = new Date();
  readonly #identities = new IrcIdentities();
  #stopping: Promise<void> | undefined;

  private constructor(
    listeners: {
      main: Deno.Listener;
      tls?: Deno.Listener;
      irc?: Deno.Listener;
      ircs?: Deno.Listener;
    },
    context: SecureContext | undefined,
    store: ChatStore | undefined,
    proxies: ProxySources | undefined,
    options: ChatServerOptions,
  ) {
    const mainIsTls = context !== undefined && listeners.tls === undefined;
    this.#listeners = [
      { listener: listeners.main, tls: mainIsTls ? context : undefined, irc: false },
      ...(listeners.tls ? [{ listener: listeners.tls, tls: context, irc: false }] : []),
      ...(listeners.irc ? [{ listener: listeners.irc, tls: undefined, irc: true }] : []),
      ...(listeners.ircs ? [{ listener: listeners.ircs, tls: context, irc: true }] : []),
    ];
    this.#irc = options.irc;
    this.#proxies = proxies;
    this.ircAddr = listeners.irc?.addr as Deno.NetAddr | undefined;
    this.ircTlsAddr = listeners.ircs?.addr as Deno.NetAddr | undefined;
    this.#store = store;
    this.#engine = options.engine;
    this.addr = listeners.main.addr as Deno.NetAddr;
    this.tlsAddr = (listeners.tls ?? (mainIsTls ? listeners.main : undefined))?.addr as
      | Deno.NetAddr
      | undefined;
    this.limits = Object.freeze({ ...DEFAULT_LIMITS, ...options.limits });
    this.#sessionOptions = {
      maxLineBytes: this.limits.maxLineBytes,
      maxOutboxBytes: this.limits.maxOutboxBytes,
      flushMs: this.limits.shutdownFlushMs,
      names: () => this.#hub.names,
    };
    this.#ircOptions = { ...this.#sessionOptions, maxLineBytes: IRC_LINE_BYTES, telnet: false };
    this.#log = options.log ?? (() => {});
    this.#acceptFailures = new AcceptFailures(this.#log);
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
      hidePrivateText: options.hidePrivateText,
      engine: options.engine,
      nodeTimeoutMs: options.nodeTimeoutMs,
    });
    this.#web = options.web && new WebDoor({
      hostname: options.hostname ?? "0.0.0.0",
      port: options.web.port,
      tls: context,
      origins: options.web.origins ?? [],
      hub: this.#hub,
      limits: this.limits,
      log: this.#log,
      admit: (ip) => this.#admit(ip),
      release: (source) => this.#release(source),
      track: (task) => this.#track(task),
      proxies: this.#proxies,
    });
    this.webAddr = this.#web?.addr;
    this.#accepting = Promise.all(
      this.#listeners.map((listening) => this.#acceptLoop(listening)),
    );
    const { nameTimeoutMs, idleTimeoutMs, deadPeerMs } = this.limits;
    const shortest = Math.min(
      ...[nameTimeoutMs, idleTimeoutMs, deadPeerMs / 2].filter((ms) => ms > 0),
    );
    // One timer for every connection (closing to within a quarter of a time limit), which
    // also prunes stored history past its retention about once a second.
    let pruned = 0;
    this.#sweeper = setInterval(() => {
      const now = Date.now();
      this.#hub.sweep(now);
      if (deadPeerMs > 0) {
        for (const session of this.#running) session.checkAlive(now, deadPeerMs);
      }
      if (now - pruned >= PRUNE_EVERY_MS) {
        pruned = now;
        this.#hub.prune(now);
      }
    }, Number.isFinite(shortest) ? Math.min(1000, Math.max(10, shortest / 4)) : PRUNE_EVERY_MS);
  }

  /**
   * Opens the data file (if any) and starts listening; throws if either fails (Deno's
   * AddrInUse or PermissionDenied, SQLite's error for a bad data file, or an Error naming what
   * is wrong with the TLS certificate or key).
   */
  static listen(options: ChatServerOptions = {}): ChatServer {
    const tls = options.tls;
    const context = tls && tlsContext(tls.cert, tls.key);
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const proxies = options.proxyFrom?.length ? new ProxySources(options.proxyFrom) : undefined;
    const store = options.store ??
      (options.dataFile === undefined ? undefined : new SqliteStore(options.dataFile, limits));
    const opened: Deno.Listener[] = [];
    try {
      const hostname = options.hostname ?? "0.0.0.0";
      const main = Deno.listen({ hostname, port: options.port ?? 0, transport: "tcp" });
      opened.push(main);
      const extra = tls?.port === undefined
        ? undefined
        : Deno.listen({ hostname, port: tls.port, transport: "tcp" });
      if (extra) opened.push(extra);
      const listen = (port: number | undefined) => {
        if (port === undefined) return undefined;
        const l = Deno.listen({ hostname, port, transport: "tcp" });
        opened.push(l);
        return l;
      };
      const irc = listen(options.irc?.port);
      if (options.irc?.tlsPort !== undefined && !context) {
        throw new Error("IRC over TLS needs a TLS certificate and key");
      }
      const ircs = listen(options.irc?.tlsPort);
      return new ChatServer({ main, tls: extra, irc, ircs }, context, store, proxies, options);
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

  /**
   * Sockets open, from accept until they are really closed: connections in the hub, TLS
   * handshakes under way, and refused connections being told why. The caps count these.
   */
  get socketCount(): number {
    return this.#sockets;
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
    for (const { listener } of this.#listeners) {
      try {
        listener.close();
      } catch {
        // Already closed.
      }
    }
    this.#web?.stop();
    for (const wake of this.#pauses) wake();
    await this.#accepting;
    this.#acceptFailures.flush();
    for (const tls of this.#handshaking) tls.close();
    for (const conn of this.#proxying) conn.close();
    this.#hub.shutdown(reason);
    await Promise.all(this.#sessions);
    await this.#web?.shutdown();
    this.#store?.close();
    await this.#engine?.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  /**
   * Accepts until the listener closes. A failed accept (out of file descriptors, say) is
   * counted for the log and followed by a pause that doubles while failures go on.
   */
  async #acceptLoop({ listener, tls, irc }: Listening): Promise<void> {
    let pause = 0;
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (this.#stopping || err instanceof Deno.errors.BadResource) return;
        this.#acceptFailures.add(err);
        pause = Math.min(ACCEPT_BACKOFF_MAX_MS, pause * 2 || ACCEPT_BACKOFF_MIN_MS);
        await this.#pause(pause);
        continue;
      }
      pause = 0;
      if (this.#stopping) {
        conn.close();
        continue;
      }
      this.#serve(conn, tls, irc);
    }
  }

  /** Waits `ms`, or less if the server starts shutting down. */
  #pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#pauses.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#pauses.add(wake);
    });
  }

  /** Why a new connection from `ip` (counted under `source`) is refused, or undefined. */
  #refusal(ip: string, source: string): string | undefined {
    const banned = this.#hub.bannedAddress(ip);
    if (banned) return banned;
    const { maxClients, maxPerIp } = this.limits;
    if (maxClients > 0 && this.#sockets >= maxClients) {
      return `server full (${maxClients} connections); try again later`;
    }
    if (maxPerIp > 0 && (this.#perIp.get(source) ?? 0) >= maxPerIp) {
      return `too many connections from your address (limit ${maxPerIp})`;
    }
    return undefined;
  }

  /**
   * Counts a new socket from `ip` as open (until its task releases it); why it is refused, if
   * it is. TCP, TLS and the web door share the count.
   */
  #admit(ip: string): { source: string; refusal?: string } {
    const source = sourceKey(ip);
    const refusal = this.#refusal(ip, source);
    this.#sockets++;
    this.#perIp.set(source, (this.#perIp.get(source) ?? 0) + 1);
    return { source, refusal };
  }

  /** Counts a new socket as open (until its task releases it) and serves or refuses it. */
  #serve(conn: Deno.Conn, tls: SecureContext | undefined, irc: boolean): void {
    const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
    try {
      const tcp = conn as Deno.TcpConn;
      tcp.setNoDelay(true);
      tcp.setKeepAlive(true);
    } catch {
      // Reset already: the first read says so.
    }
    if (this.#proxies?.has(ip)) this.#track(this.#proxied(conn, tls, irc));
    else this.#open(conn, tls, irc);
  }

  /** Admits a connection from its client's address, then serves or refuses it. */
  #open(conn: Transport, tls: SecureContext | undefined, irc: boolean): void {
    const ip = (conn.remoteAddr as Deno.NetAddr).hostname;
    const { source, refusal } = this.#admit(ip);
    if (refusal) {
      this.#log(`refused ${ip}: ${refusal}`);
      this.#track(this.#refuse(conn, tls, source, refusal, irc));
    } else {
      this.#track(this.#connection(conn, tls, source, irc));
    }
  }

  /**
   * A balancer's connection: its PROXY line first (counted against `maxClients` meanwhile,
   * within the TLS handshake's time), then the client it names is admitted as if it had
   * connected itself. A bad line is logged and the connection closed; a connection that ends
   * before its first byte (a health check) is closed without a word.
   */
  async #proxied(conn: Deno.Conn, tls: SecureContext | undefined, irc: boolean): Promise<void> {
    this.#sockets++;
    this.#proxying.add(conn);
    let client: Transport | undefined;
    try {
      client = await pastProxyLine(conn, this.limits.tlsHandshakeMs, (line) => {
        if (!this.#stopping) this.#log(line);
      });
    } finally {
      this.#sockets--;
      this.#proxying.delete(conn);
    }
    if (client === undefined) return;
    if (this.#stopping) client.close();
    else this.#open(client, tls, irc);
  }

  /** Stops counting a socket from `source`, once it is closed. */
  #release(source: string): void {
    this.#sockets--;
    const left = (this.#perIp.get(source) ?? 1) - 1;
    if (left > 0) this.#perIp.set(source, left);
    else this.#perIp.delete(source);
  }

  /** Tells a newcomer why it is refused (over TLS too) and closes it, in bounded time. */
  async #refuse(
    conn: Transport,
    tls: SecureContext | undefined,
    source: string,
    reason: string,
    irc: boolean,
  ): Promise<void> {
    const ms = this.limits.shutdownFlushMs;
    const secure = tls && new TlsTransport(conn, tls, ms);
    const line = irc
      ? new TextEncoder().encode(ircLine(undefined, "ERROR", [`Closing link: ${reason}`]))
      : new Outgoing({ type: "bye", ts: Date.now(), reason }).bytes("text");
    await refuse(secure ?? conn, line, ms);
    await secure?.closed;
    this.#release(source);
  }

  /**
   * One connection's life: its TLS handshake (if any), then its lines into the hub until it
   * ends. Its socket is released the moment it closes; resolves once it has.
   */
  async #connection(
    conn: Transport,
    tls: SecureContext | undefined,
    source: string,
    irc: boolean,
  ): Promise<void> {
    const secure = tls && new TlsTransport(conn, tls, this.limits.shutdownFlushMs);
    if (secure && !await this.#handshake(secure)) {
      this.#release(source);
      return;
    }
    const session = new Session(secure ?? conn, irc ? this.#ircOptions : this.#sessionOptions);
    const released = (secure ? secure.closed : session.closed).then(() => this.#release(source));
    const door = irc ? this.#door(session) : undefined;
    const client = this.#hub.connect(door ?? session);
    door?.start(this.#hub, client);
    this.#running.add(session);
    try {
      await session.run(door ?? new ClientLines(this.#hub, client));
    } finally {
      this.#running.delete(session);
      this.#hub.disconnect(client, session.reason);
      door?.stop();
    }
    await released;
  }

  /**
   * Waits for a TLS handshake, at most `tlsHandshakeMs`; true when it finished. Otherwise the
   * socket is closed, then logged once.
   */
  async #handshake(secure: TlsTransport): Promise<boolean> {
    this.#handshaking.add(secure);
    try {
      await secure.handshake(this.limits.tlsHandshakeMs);
    } catch (err) {
      await secure.closed;
      this.#log(`tls ${addressText(secure.remoteAddr)}: ${(err as Error).message}; closed`);
      return false;
    } finally {
      this.#handshaking.delete(secure);
    }
    if (!this.#stopping) return true;
    secure.close();
    await secure.closed;
    return false;
  }

  /** The IRC door for a new connection. */
  #door(session: Session): IrcDoor {
    return new IrcDoor(session, {
      identities: this.#identities,
      serverName: this.#irc!.name,
      version: VERSION,
      started: this.#started,
      maxNameLength: this.limits.maxNameLength,
      maxRoomsPerUser: this.limits.maxRoomsPerUser,
      rate: this.limits.ratePerSecond,
      burst: this.limits.burst,
      noticeCost: this.limits.noticeCost,
    });
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

/** Failed accepts, logged at most once a second with how many there were. */
class AcceptFailures {
  readonly #log: (line: string) => void;
  #count = 0;
  #since = 0;
  #last = "";
  #loggedAt = -Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(log: (line: string) => void) {
    this.#log = log;
  }

  /** Counts a failed accept; logs now or at the end of this second. */
  add(err: unknown, now = Date.now()): void {
    if (this.#count++ === 0) this.#since = now;
    this.#last = describe(err);
    const wait = this.#loggedAt + 1000 - now;
    if (wait <= 0) this.flush(now);
    else this.#timer ??= setTimeout(() => this.flush(), wait);
  }

  /** Logs the failures not logged yet, if any. */
  flush(now = Date.now()): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#count === 0) return;
    const times = this.#count === 1
      ? ""
      : ` ${this.#count} times in ${Math.max(0.1, (now - this.#since) / 1000).toFixed(1)} s`;
    this.#log(`accept failed${times}: ${this.#last}`);
    this.#count = 0;
    this.#loggedAt = now;
  }
}

/**
 * Sends one line saying why, then closes; waits at most `ms` (over TLS the write waits for
 * a handshake the newcomer may never finish).
 */
async function refuse(conn: Transport, line: Uint8Array, ms: number): Promise<void> {
  const close = () => {
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  };
  const timer = setTimeout(close, ms);
  try {
    await conn.write(line);
  } catch {
    // The newcomer is gone already.
  } finally {
    clearTimeout(timer);
    close();
  }
}
