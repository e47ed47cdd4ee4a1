// One connection: reads straight into a small buffer, frames lines, and owns a bounded
// output queue written in one coalesced write per turn. It closes exactly once.
// What a line means is left to the hub, TLS to tls_transport.ts; the session only moves bytes.

import { type FramerSink, LineFramer } from "../protocol/framing.ts";
import type { Peer } from "./hub.ts";
import { READ_BUFFER_BYTES } from "./limits.ts";
import { TelnetLink } from "./telnet/link.ts";

/** Settings for one session. */
export interface SessionOptions {
  maxLineBytes: number;
  maxOutboxBytes: number;
  /** Longest wait to flush queued output when closing. */
  flushMs: number;
  /** The names a telnet client in character mode completes with Tab. */
  names?: () => Iterable<string>;
  /**
   * Whether the peer may speak telnet (default true). An IRC connection may not: its bytes go
   * to the framer as they are, and nothing is ever proposed to it.
   */
  telnet?: boolean;
}

/**
 * What a session reads from and writes to. A plain `Deno.Conn` is one (the fast path: no
 * adapter, no copy); tls_transport.ts adapts a node:tls socket.
 */
export interface Transport {
  readonly remoteAddr: Deno.Addr;
  /** Reads into `buf`; the number of bytes, or null at the end. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Writes some of `bytes`; resolves with how many were written. */
  write(bytes: Uint8Array): Promise<number>;
  /** Closes (TLS may send its close_notify first); pending reads and writes fail. Called once. */
  close(): void;
}

/** An address as `host:port` (`[host]:port` for IPv6), for the log and hooks. */
export function addressText(addr: Deno.Addr): string {
  const { hostname, port } = addr as Deno.NetAddr;
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** Socket errors that only mean "the peer went away". */
const PEER_GONE = [
  Deno.errors.BrokenPipe,
  Deno.errors.ConnectionReset,
  Deno.errors.ConnectionAborted,
  Deno.errors.NotConnected,
  Deno.errors.UnexpectedEof,
  Deno.errors.BadResource,
  Deno.errors.Interrupted,
];

/** The same from node:tls and node:stream, by error code. */
const PEER_GONE_CODES = new Set([
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ENOTCONN",
  "ERR_STREAM_DESTROYED",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

/** Classifies a socket error as a short reason for the log. */
export function socketErrorReason(err: unknown): string {
  if (PEER_GONE.some((cls) => err instanceof cls)) return "connection lost";
  if (PEER_GONE_CODES.has(String((err as { code?: unknown })?.code))) return "connection lost";
  return `socket error: ${err instanceof Error ? err.message : String(err)}`;
}

/**
 * Sessions with output waiting; all of them are flushed together, once per turn. Few
 * waiting (a reply, a small room): flushed as soon as this turn's work is done, for the
 * least latency. Many waiting (a broadcast to a big room): flushed on the next timer
 * turn instead, so input read meanwhile joins the same writes (the benchmark: connects
 * 2.5x faster than always deferring, fan-out 10-15% faster than never deferring).
 */
const waiting: Session[] = [];
/** From this many sessions waiting, the flush is deferred to the next timer turn. */
const DEFER_FLUSH_FROM = 64;
let flushScheduled = false;
let deferred = false;
const FLUSH = Symbol("flush");

function flushWaiting(): void {
  if (!deferred && waiting.length >= DEFER_FLUSH_FROM) {
    deferred = true;
    setTimeout(flushWaiting, 0);
    return;
  }
  flushScheduled = false;
  deferred = false;
  const sessions = waiting.splice(0);
  for (const s of sessions) s[FLUSH]();
}

/** A connection as the hub sees it: a Peer whose bytes go to a {@link Transport}. */
export class Session implements Peer {
  readonly address: string;
  /**
   * Resolves once the session has closed its transport: a `Deno.Conn`'s socket is gone by
   * then (a TLS transport's own `closed` says when its socket is).
   */
  readonly closed: Promise<void>;
  readonly #markClosed: () => void;
  readonly #conn: Transport;
  readonly #opts: SessionOptions;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #flushing = false;
  #closing = false;
  #closed = false;
  #reason: string | undefined;
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Resolves when the write side has nothing more to send. */
  #drained: (() => void) | undefined;
  /** The telnet side of the connection; none where telnet is off. */
  readonly #telnet: TelnetLink | undefined;

  constructor(conn: Transport, options: SessionOptions) {
    this.#conn = conn;
    this.#opts = options;
    this.address = addressText(conn.remoteAddr);
    this.#telnet = options.telnet === false
      ? undefined
      // The session's options are the link's (shared by every session: none made per link).
      : new TelnetLink((bytes) => this.#enqueue(bytes, true), options);
    const { promise, resolve } = Promise.withResolvers<void>();
    this.closed = promise;
    this.#markClosed = resolve;
  }

  /** Why the session ended, once it has. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /**
   * Reads until the peer closes or the session is closed, feeding lines to `sink` (which
   * ignores lines once the session closes). Resolves (never rejects) when reading is
   * over; the connection is closed by then.
   */
  async run(sink: FramerSink): Promise<void> {
    const framer = new LineFramer(this.#opts.maxLineBytes, sink, this.#opts.telnet !== false);
    const telnet = this.#telnet;
    if (telnet) {
      telnet.framer = framer;
      telnet.lines = sink;
    }
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    try {
      while (!this.#closing) {
        const n = await this.#conn.read(buf);
        if (n === null) {
          this.#reason ??= "connection closed by peer";
          break;
        }
        if (telnet) telnet.push(buf.subarray(0, n));
        else framer.push(buf.subarray(0, n));
      }
    } catch (err) {
      this.#reason ??= socketErrorReason(err);
    }
    this.close();
    await this.#whenDrained();
    this.#destroy();
  }

  /**
   * Checks a telnet peer is still there: one silent for half of `ms` gets a TIMING-MARK
   * probe, which a client that is there answers; one silent for `ms` is closed. Peers that
   * do not speak telnet are left to TCP keepalive and the idle timeout.
   */
  checkAlive(now: number, ms: number): void {
    const telnet = this.#telnet;
    if (this.#closing || !telnet?.telnet) return;
    const silent = now - telnet.heard;
    if (silent >= ms) this.close(`not responding for ${Math.round(silent / 1000)} s`);
    else if (silent >= ms / 2 && telnet.probes === 0) telnet.probe();
  }

  /** See {@link Peer.rooms}: the prompt of telnet's character mode. */
  rooms(active: string | undefined, joined: readonly string[]): void {
    this.#telnet?.rooms(active, joined);
  }

  /** See {@link Peer.hideNextLine}: telnet's echo, when the peer speaks it. */
  hideNextLine(): boolean {
    return this.#telnet?.hideNextLine() ?? false;
  }

  /**
   * Queues bytes. A client whose queue would go over `maxOutboxBytes` is disconnected as a slow
   * reader; a `reply` (the server's answer to this client's own request, kept small by the hub)
   * is queued whenever the queue before it is under the cap, so it never trips the cap itself.
   */
  write(bytes: Uint8Array, reply = false): void {
    if (this.#closed) return;
    this.#enqueue(this.#telnet ? this.#telnet.outgoing(bytes) : bytes, reply);
  }

  /** Queues bytes as they are (see {@link write}). */
  #enqueue(bytes: Uint8Array, reply: boolean): void {
    if (this.#closed) return;
    const cap = this.#opts.maxOutboxBytes;
    if (reply ? this.#queued >= cap : this.#queued + bytes.length > cap) {
      this.#reason ??= `output queue over ${cap} bytes (not reading)`;
      this.#destroy();
      return;
    }
    this.#queue.push(bytes);
    this.#queued += bytes.length;
    if (!this.#flushing) {
      this.#flushing = true;
      waiting.push(this);
      if (!flushScheduled) {
        flushScheduled = true;
        queueMicrotask(flushWaiting);
      }
    }
  }

  /** Starts writing what is queued (the scheduler calls it once per turn). */
  [FLUSH](): void {
    this.#flush();
  }

  /** Stops reading; the connection closes once queued output is flushed (bounded wait). */
  close(reason?: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#reason ??= reason;
    this.#flushTimer = setTimeout(() => this.#destroy(), this.#opts.flushMs);
    // A pending read holds the connection open; closing the read side ends it.
    this.#whenDrained().then(() => this.#destroy());
  }

  /** Resolves when every queued byte has been written (or the socket is gone). */
  #whenDrained(): Promise<void> {
    if (this.#closed || (!this.#flushing && this.#queued === 0)) return Promise.resolve();
    return new Promise((resolve) => {
      const previous = this.#drained;
      this.#drained = () => {
        previous?.();
        resolve();
      };
    });
  }

  async #flush(): Promise<void> {
    let pooled: Uint8Array | undefined;
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const total = this.#queued;
        let chunk: Uint8Array;
        if (this.#queue.length === 1) {
          chunk = this.#queue[0];
        } else {
          pooled = takeBuffer(total);
          chunk = join(this.#queue, pooled);
        }
        this.#queue = [];
        let offset = 0;
        while (offset < chunk.length) {
          offset += await this.#conn.write(chunk.subarray(offset));
        }
        this.#queued -= chunk.length;
        if (pooled) {
          giveBuffer(pooled);
          pooled = undefined;
        }
      }
    } catch (err) {
      this.#reason ??= socketErrorReason(err);
      this.#destroy();
    } finally {
      this.#flushing = false;
      const drained = this.#drained;
      this.#drained = undefined;
      drained?.();
    }
  }

  /** Closes the socket now, once; pending reads and writes end with an error. */
  #destroy(): void {
    this.#closing = true;
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#flushTimer);
    this.#queue = [];
    this.#queued = 0;
    try {
      this.#conn.close();
    } catch {
      // Already closed by the runtime.
    }
    this.#markClosed();
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.();
  }
}

/** Copies `chunks` into `out` (big enough) and returns the filled part. */
function join(chunks: Uint8Array[], out: Uint8Array): Uint8Array {
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out.subarray(0, offset);
}

/**
 * Buffers for joining queued chunks into one write, reused instead of allocated per flush
 * (sizes are powers of two from 1 KiB to 64 KiB, at most 32 of each: 4 MiB at most held).
 */
const pool = new Map<number, Uint8Array[]>();
const POOL_MIN = 1024;
const POOL_MAX = 64 * 1024;
const POOL_PER_SIZE = 32;

function takeBuffer(bytes: number): Uint8Array {
  if (bytes > POOL_MAX) return new Uint8Array(bytes);
  const size = Math.max(POOL_MIN, 2 ** Math.ceil(Math.log2(bytes)));
  return pool.get(size)?.pop() ?? new Uint8Array(size);
}

function giveBuffer(buf: Uint8Array): void {
  if (buf.length > POOL_MAX) return;
  let list = pool.get(buf.length);
  if (!list) pool.set(buf.length, list = []);
  if (list.length < POOL_PER_SIZE) list.push(buf);
}
