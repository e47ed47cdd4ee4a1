// The web door: an HTTP(S) server that serves the chat page (page.ts) at `/` and a WebSocket at
// `/ws` whose connections are hub clients in JSON mode, one event or request a frame. The
// server (server.ts) counts and caps its sockets with the TCP ones; the chat is the hub's.

import { Outgoing } from "../../protocol/events.ts";
import type { Client, Hub } from "../hub.ts";
import type { Limits } from "../limits.ts";
import { addressText } from "../session.ts";
import { originAllowed } from "./origin.ts";
import { asset } from "./page.ts";
import { WebPeer } from "./peer.ts";

/** Where the WebSocket is served. */
export const SOCKET_PATH = "/ws";

/** What the door needs of the server around it. */
export interface WebDoorOptions {
  hostname: string;
  port: number;
  /** Serve https and wss with this certificate and key (PEM). */
  tls?: { cert: string; key: string };
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
}

const encoder = new TextEncoder();

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

/** The web door: the page and the WebSocket, on their own port. */
export class WebDoor {
  /** Where the door listens (the real port when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  readonly #opts: WebDoorOptions;
  readonly #server: Deno.HttpServer<Deno.NetAddr>;
  #stopping = false;

  /** Starts listening; throws a {@link WebPortError} if it cannot. */
  constructor(options: WebDoorOptions) {
    this.#opts = options;
    this.#server = serve(options, (req, info) => this.#handle(req, info));
    this.addr = this.#server.addr;
  }

  /** Refuses new requests from now on; open WebSockets are the hub's to close. */
  stop(): void {
    this.#stopping = true;
  }

  /** Stops listening once the open WebSockets have closed (see ChatServer.shutdown). */
  async shutdown(): Promise<void> {
    this.#stopping = true;
    await this.#server.shutdown();
  }

  #handle(req: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response {
    if (this.#stopping) return plain(503, "server shutting down");
    const path = new URL(req.url).pathname;
    if (path === SOCKET_PATH) return this.#upgrade(req, info.remoteAddr);
    if (req.method !== "GET" && req.method !== "HEAD") return plain(405, "method not allowed");
    const found = asset(path);
    if (!found) return plain(404, "not found");
    return new Response(req.method === "HEAD" ? null : found.body, {
      headers: { ...SECURITY_HEADERS, "content-type": found.type, "cache-control": "no-cache" },
    });
  }

  /** A WebSocket for the page: checked, counted, then a hub client in JSON mode. */
  #upgrade(req: Request, remote: Deno.NetAddr): Response {
    if (req.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return plain(426, "this is the chat's WebSocket: connect with one");
    }
    const origin = req.headers.get("origin");
    if (!originAllowed(origin, req.headers.get("host"), this.#opts.origins)) {
      this.#opts.log(`web: refused ${addressText(remote)}: origin ${origin} not allowed`);
      return plain(403, "this page's origin may not connect (see --web-origin)");
    }
    const { socket, response } = Deno.upgradeWebSocket(req);
    const { source, refusal } = this.#opts.admit(remote.hostname);
    const done = Promise.withResolvers<void>();
    this.#opts.track(done.promise);
    let client: Client | undefined;
    const { hub, limits } = this.#opts;
    const peer = new WebPeer(socket, addressText(remote), {
      maxOutboxBytes: limits.maxOutboxBytes,
      flushMs: limits.shutdownFlushMs,
      gone: (reason) => {
        if (client) hub.disconnect(client, reason);
      },
    });
    /** Tells the browser why (as the hub's `bye` would) and closes with `code`. */
    const refuse = (reason: string, code: number) => {
      peer.write(new Outgoing({ type: "bye", ts: Date.now(), reason }).bytes("json"));
      peer.close(reason, code);
    };
    socket.onopen = () => {
      if (refusal) {
        this.#opts.log(`refused ${remote.hostname}: ${refusal}`);
        refuse(refusal, 1008);
      } else if (this.#stopping) {
        refuse("server shutting down", 1001);
      } else {
        client = hub.connect(peer, Date.now(), "json");
      }
    };
    socket.onmessage = (e: MessageEvent) => {
      if (!client || client.closing) return;
      if (typeof e.data !== "string") {
        refuse("binary frames are refused: send text (a line or a JSON request)", 1003);
        return;
      }
      if (utf8Bytes(e.data, limits.maxLineBytes) > limits.maxLineBytes) {
        refuse(`frame over ${limits.maxLineBytes} bytes (the line limit); closed`, 1009);
        return;
      }
      const text = e.data.replace(/(\r\n|\r|\n)$/, "");
      for (const line of text.split(/\r\n|\r|\n/)) hub.input(client, line);
    };
    socket.onerror = (e) => e.preventDefault();
    socket.onclose = () => {
      peer.closed();
      this.#opts.release(source);
      done.resolve();
    };
    return response;
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

function plain(status: number, text: string): Response {
  return new Response(text + "\n", {
    status,
    headers: { ...SECURITY_HEADERS, "content-type": "text/plain; charset=utf-8" },
  });
}

/** The UTF-8 size of `text`, or something over `max` once it is known to be over. */
function utf8Bytes(text: string, max: number): number {
  if (text.length > max) return text.length;
  if (text.length * 3 <= max) return text.length;
  return encoder.encode(text).length;
}

/** Deno.serve on the door's port, quiet; its failure as a {@link WebPortError}. */
function serve(
  options: WebDoorOptions,
  handler: Deno.ServeHandler<Deno.NetAddr>,
): Deno.HttpServer<Deno.NetAddr> {
  const { hostname, port, tls, log } = options;
  try {
    return Deno.serve({
      hostname,
      port,
      ...(tls ?? {}),
      onListen: () => {},
      onError: (err) => {
        log(`web: ${err instanceof Error ? err.message : String(err)}`);
        return new Response("internal error", { status: 500 });
      },
    }, handler);
  } catch (err) {
    throw new WebPortError(port, { cause: err });
  }
}
