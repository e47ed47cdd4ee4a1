// The web door: its own listener (TCP, or TLS through tls_transport.ts) serving the chat page
// (page.ts) at `/` and a WebSocket at `/ws` whose connections are hub clients in JSON mode, one
// event or request a frame. Requests are read by a bounded reader (http.ts) within a time limit,
// frames by our own reader (frames.ts, peer.ts); the server (server.ts) counts and caps every
// socket with the TCP ones, from accept to close; the chat is the hub's.

import type { SecureContext } from "node:tls";
import type { Client, Hub } from "../hub.ts";
import { READ_BUFFER_BYTES } from "../limits.ts";
import type { Limits } from "../limits.ts";
import { addressText, type Transport } from "../session.ts";
import { pastProxyLine, type ProxySources } from "../proxy_protocol.ts";
import { TlsHandshakeError, TlsTransport } from "../tls_transport.ts";
import { CloseCode } from "./frames.ts";
import {
  type BadRequest,
  HeadReader,
  listsToken,
  type RequestHead,
  response,
  upgradeResponse,
} from "./http.ts";
import { originAllowed } from "./origin.ts";
import { asset } from "./page.ts";
import { WebPeer } from "./peer.ts";

/** Where the WebSocket is served. */
export const SOCKET_PATH = "/ws";

/** The longest pause between accepts while they keep failing. */
const ACCEPT_BACKOFF_MAX_MS = 1000;

/** What the door needs of the server around it. */
export interface WebDoorOptions {
  hostname: string;
  port: number;
  /** Serve https and wss with this context. */
  tls?: SecureContext;
  /** Origins (normalised) whose pages may connect, besides the server's own. */
  origins: readonly string[];
  hub: Hub;
  limits: Readonly<Limits>;
  log(line: string): void;
  /** Counts a new socket from `ip` as open; why it is refused (ban, caps), if it is. */
  admit(ip: string): { source: string; refusal?: string };
  /** Stops counting a socket from `source` once it is closed. */
  release(source: string): void;
  /** Keeps a connection's task, so shutdown can wait for it. */
  track(task: Promise<void>): void;
  /** Load balancers whose connections start with a PROXY line naming the client. */
  proxies?: ProxySources;
}

/** The web door could not listen (its port is taken, say); `cause` is Deno's error. */
export class WebPortError extends Error {
  override name = "WebPortError";
  constructor(readonly port: number, options: ErrorOptions) {
    super(
      options.cause instanceof Deno.errors.AddrInUse
        ? `port ${port} is already in use`
        : `cannot listen on port ${port}: ${(options.cause as Error)?.message}`,
      options,
    );
  }
}

/** A connection's request head, what came after it, or nothing (closed, too slow). */
type Request = { head: RequestHead | BadRequest; rest: Uint8Array };

/** The web door: the page and the WebSocket, on their own port. */
export class WebDoor {
  /** Where the door listens (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  readonly #opts: WebDoorOptions;
  readonly #listener: Deno.Listener;
  readonly #accepting: Promise<void>;
  /** Connections not yet a WebSocket (handshake, request, response): closed at shutdown. */
  readonly #pending = new Set<Transport>();
  #stopping = false;

  /** Starts listening; throws a {@link WebPortError} if it cannot. */
  constructor(options: WebDoorOptions) {
    this.#opts = options;
    try {
      this.#listener = Deno.listen({
        hostname: options.hostname,
        port: options.port,
        transport: "tcp",
      });
    } catch (err) {
      throw new WebPortError(options.port, { cause: err });
    }
    this.addr = this.#listener.addr as Deno.NetAddr;
    this.#accepting = this.#acceptLoop();
  }

  /** Stops accepting and closes connections that are not WebSockets yet (those are the hub's). */
  stop(): void {
    if (this.#stopping) return;
    this.#stopping = true;
    try {
      this.#listener.close();
    } catch {
      // Closed already.
    }
    for (const conn of this.#pending) closeQuietly(conn);
  }

  /** Stops, and waits for the accept loop to end (connections are tracked by the server). */
  async shutdown(): Promise<void> {
    this.stop();
    await this.#accepting;
  }

  async #acceptLoop(): Promise<void> {
    let pause = 0;
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await this.#listener.accept();
      } catch (err) {
        if (this.#stopping || err instanceof Deno.errors.BadResource) return;
        if (pause === 0) this.#opts.log(`web: accept failed: ${(err as Error).message}`);
        pause = Math.min(ACCEPT_BACKOFF_MAX_MS, pause * 2 || 10);
        await new Promise((resolve) => setTimeout(resolve, pause));
        continue;
      }
      pause = 0;
      if (this.#stopping) {
        closeQuietly(conn);
        continue;
      }
      this.#opts.track(this.#connection(conn));
    }
  }

  /** One connection, counted from accept to close: its request, then a response or a socket. */
  async #connection(conn: Deno.Conn): Promise<void> {
    try {
      (conn as Deno.TcpConn).setNoDelay(true);
      (conn as Deno.TcpConn).setKeepAlive(true);
    } catch {
      // Reset already: the first read says so.
    }
    let client: Transport | undefined = conn;
    if (this.#opts.proxies?.has((conn.remoteAddr as Deno.NetAddr).hostname)) {
      // A balancer's: the client it names is the one admitted, as on the chat ports.
      this.#pending.add(conn);
      try {
        client = await pastProxyLine(conn, this.#opts.limits.tlsHandshakeMs, (line) => {
          if (!this.#stopping) this.#opts.log(`web: ${line}`);
        });
      } finally {
        this.#pending.delete(conn);
      }
      if (client === undefined) return;
      if (this.#stopping) return closeQuietly(client);
    }
    const remote = client.remoteAddr as Deno.NetAddr;
    const { source, refusal } = this.#opts.admit(remote.hostname);
    const tls = this.#opts.tls &&
      new TlsTransport(client, this.#opts.tls, this.#opts.limits.shutdownFlushMs);
    const transport: Transport = tls ?? client;
    this.#pending.add(transport);
    try {
      const request = await this.#request(transport, tls);
      if (request) await this.#answer(transport, request, refusal);
    } finally {
      this.#pending.delete(transport);
      closeQuietly(transport);
      await tls?.closed;
      this.#opts.release(source);
    }
  }

  /**
   * Reads the request head (after the TLS handshake, if any) within `webRequestMs`; undefined
   * when the connection ends or the time runs out (the connection is closed then).
   */
  async #request(conn: Transport, tls: TlsTransport | undefined): Promise<Request | undefined> {
    const { webRequestMs, tlsHandshakeMs } = this.#opts.limits;
    let late = false;
    const timer = setTimeout(() => {
      late = true;
      closeQuietly(conn);
    }, webRequestMs);
    try {
      if (tls) await tls.handshake(Math.min(tlsHandshakeMs, webRequestMs));
      const reader = new HeadReader();
      const buf = new Uint8Array(READ_BUFFER_BYTES);
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) return undefined;
        const taken = reader.push(buf.subarray(0, n));
        if (reader.result) {
          return { head: reader.result, rest: buf.slice(taken, n) };
        }
      }
    } catch (err) {
      const who = addressText(conn.remoteAddr);
      if (late) {
        this.#opts.log(`web: ${who} sent no request within ${webRequestMs / 1000} s; closed`);
      } else if (err instanceof TlsHandshakeError) {
        this.#opts.log(`web: tls ${who}: ${err.message}`);
      }
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Answers a request: the page, an error, or the WebSocket. */
  async #answer(
    conn: Transport,
    { head, rest }: Request,
    refusal: string | undefined,
  ): Promise<void> {
    const log = this.#opts.log;
    if ("status" in head) return await this.#respond(conn, plain(head.status, head.reason));
    const who = addressText(conn.remoteAddr);
    const isHead = head.method === "HEAD";
    if (this.#stopping) return await this.#respond(conn, plain(503, "server shutting down"));
    if (head.path === SOCKET_PATH) {
      const h = head.headers;
      if (!listsToken(h.get("upgrade"), "websocket")) {
        return await this.#respond(
          conn,
          plain(426, "this is the chat's WebSocket: connect with one"),
        );
      }
      const key = h.get("sec-websocket-key");
      if (
        head.method !== "GET" || !listsToken(h.get("connection"), "upgrade") || !key ||
        h.get("sec-websocket-version") !== "13"
      ) {
        return await this.#respond(conn, plain(400, "not a WebSocket upgrade (version 13)"));
      }
      const origin = h.get("origin") ?? null;
      if (!originAllowed(origin, h.get("host") ?? null, this.#opts.origins)) {
        log(`web: refused ${who}: origin ${origin} not allowed`);
        return await this.#respond(
          conn,
          plain(403, "this page's origin may not connect (see --web-origin)"),
        );
      }
      return await this.#socket(conn, key, rest, refusal);
    }
    if (refusal) {
      log(`refused ${(conn.remoteAddr as Deno.NetAddr).hostname}: ${refusal}`);
      return await this.#respond(conn, plain(503, refusal));
    }
    if (head.method !== "GET" && !isHead) {
      return await this.#respond(conn, plain(405, "method not allowed"));
    }
    const found = asset(head.path);
    if (!found) return await this.#respond(conn, plain(404, "not found", isHead));
    await this.#respond(
      conn,
      response(
        200,
        { ...SECURITY_HEADERS, "content-type": found.type, "cache-control": "no-cache" },
        found.body,
        isHead,
      ),
    );
  }

  /** The WebSocket's life: upgraded, then a hub client in JSON mode (or told why not). */
  async #socket(
    conn: Transport,
    key: string,
    rest: Uint8Array,
    refusal: string | undefined,
  ): Promise<void> {
    this.#pending.delete(conn);
    const { hub, limits } = this.#opts;
    const peer = new WebPeer(conn, {
      maxLineBytes: limits.maxLineBytes,
      maxOutboxBytes: limits.maxOutboxBytes,
      flushMs: limits.shutdownFlushMs,
    });
    try {
      await conn.write(upgradeResponse(key));
    } catch {
      return;
    }
    let client: Client | undefined;
    if (refusal) {
      this.#opts.log(`refused ${(conn.remoteAddr as Deno.NetAddr).hostname}: ${refusal}`);
      peer.refuse(refusal, CloseCode.Policy);
    } else if (this.#stopping) {
      peer.refuse("server shutting down", CloseCode.GoingAway);
    } else {
      client = hub.connect(peer, Date.now(), "json");
    }
    try {
      await peer.run(rest, (message) => {
        if (!client || client.closing) return;
        const text = message.replace(/(\r\n|\r|\n)$/, "");
        for (const line of text.split(/\r\n|\r|\n/)) hub.input(client, line);
      });
    } finally {
      if (client) hub.disconnect(client, peer.reason);
    }
  }

  /**
   * Sends a whole response, then closes: our side first, then, once the client has read it and
   * closed (or `shutdownFlushMs` passed), the socket, so unread request bytes do not reset it.
   */
  async #respond(conn: Transport, bytes: Uint8Array): Promise<void> {
    const timer = setTimeout(() => closeQuietly(conn), this.#opts.limits.shutdownFlushMs);
    try {
      let offset = 0;
      while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
      await (conn as Partial<Deno.TcpConn>).closeWrite?.();
      const buf = new Uint8Array(READ_BUFFER_BYTES);
      while (await conn.read(buf) !== null) {
        // Dropped: nothing more is read from a request.
      }
    } catch {
      // Gone, or closed by the timer.
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Headers on every page and asset: no framing, no sniffing, nothing from elsewhere. */
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; " +
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; " +
    "frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
};

function plain(status: number, text: string, head = false): Uint8Array {
  return response(
    status,
    { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8" },
    text + "\n",
    head,
  );
}

function closeQuietly(conn: Transport | Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}
