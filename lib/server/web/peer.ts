// A browser's WebSocket as the hub sees it: a Peer over our own frames (frames.ts) on a TCP or TLS
// Transport. It reads into a small buffer, holds a message only once its header says it fits the
// line limit, writes each JSON event line as a text frame through a bounded output queue, and
// does the close handshake. The upgrade and what a message means are the door's (door.ts).

import { Outgoing } from "../../protocol/events.ts";
import type { Peer } from "../hub.ts";
import { READ_BUFFER_BYTES } from "../limits.ts";
import { addressText, socketErrorReason, type Transport } from "../session.ts";
import { CloseCode, closeFrame, encodeFrame, FrameReader, Opcode, textFrame } from "./frames.ts";

const decoder = new TextDecoder();

/** Settings for one web connection. */
export interface WebPeerOptions {
  /** The longest message (all its fragments), in bytes: the line limit. */
  maxLineBytes: number;
  /** Bytes waiting to be sent before the client is closed as one that stopped reading. */
  maxOutboxBytes: number;
  /** Longest wait, once closing, for queued output and the client's close frame. */
  flushMs: number;
}

/** A WebSocket connection as a hub Peer. */
export class WebPeer implements Peer {
  readonly address: string;
  readonly #conn: Transport;
  readonly #opts: WebPeerOptions;
  #queue: Uint8Array[] = [];
  #queued = 0;
  #flushing = false;
  /** A close frame is queued (ours, or our answer to the client's): nothing more is sent. */
  #closing = false;
  /** The socket closes as soon as the queue is empty. */
  #ending = false;
  #closed = false;
  #reason: string | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  readonly #done = Promise.withResolvers<void>();

  constructor(conn: Transport, options: WebPeerOptions) {
    this.#conn = conn;
    this.#opts = options;
    this.address = addressText(conn.remoteAddr);
  }

  /** Why the connection is closing or closed, once it is. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /** Whether a close frame has been queued (the hub's lines are no longer wanted). */
  get closing(): boolean {
    return this.#closing;
  }

  /**
   * Reads frames until the connection is over, giving each text message to `text` (not once
   * closing); `first` holds bytes read with the request head. Resolves (never rejects) once
   * the socket is closed.
   */
  async run(first: Uint8Array, text: (message: string) => void): Promise<void> {
    const reader = new FrameReader(this.#opts.maxLineBytes, {
      text: (message) => {
        if (!this.#closing) text(message);
      },
      ping: (payload) => this.#send(encodeFrame(Opcode.Pong, payload), true),
      close: (code) => {
        this.#reason ??= "connection closed by peer";
        this.#sendClose(code === CloseCode.NoStatus ? CloseCode.Normal : code, "");
        this.#end();
      },
      fail: (code, reason) => this.refuse(reason, code),
    });
    reader.push(first);
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    try {
      while (!this.#closed) {
        const n = await this.#conn.read(buf);
        if (n === null) {
          this.#reason ??= "connection closed by peer";
          break;
        }
        // Once done (closed, or failed) the rest is read and dropped until the client closes.
        if (!reader.done) reader.push(buf.subarray(0, n));
      }
    } catch (err) {
      this.#reason ??= socketErrorReason(err);
    }
    this.#end();
    await this.#done.promise;
  }

  /**
   * Sends each line of `bytes` (JSON events ending in CRLF) as a text frame. Past the outbox
   * cap the client is closed as a slow reader; a `reply` is sent whenever the queue is under the
   * cap (see Peer).
   */
  write(bytes: Uint8Array, reply = false): void {
    if (this.#closing || this.#closed) return;
    const cap = this.#opts.maxOutboxBytes;
    if (reply ? this.#queued >= cap : this.#queued + bytes.length > cap) {
      this.#reason ??= `output queue over ${cap} bytes (not reading)`;
      this.#destroy();
      return;
    }
    for (const line of decoder.decode(bytes).split("\r\n")) {
      if (line !== "") this.#send(textFrame(line), false);
    }
  }

  /**
   * Closes with a close frame saying `reason` (after what is queued); the socket closes once the
   * client answers it, or `flushMs` later at the latest.
   */
  close(reason?: string, code: number = CloseCode.Normal): void {
    if (this.#closing || this.#closed) return;
    this.#reason ??= reason;
    this.#sendClose(code, reason ?? "");
  }

  /** Tells the client why (a `bye`, as the hub would) and closes with `code`. */
  refuse(reason: string, code: number): void {
    this.write(new Outgoing({ type: "bye", ts: Date.now(), reason }).bytes("json"), true);
    this.close(reason, code);
  }

  #sendClose(code: number, reason: string): void {
    if (this.#closing) return;
    this.#send(closeFrame(code, reason), false);
    this.#closing = true;
    this.#timer ??= setTimeout(() => this.#destroy(), this.#opts.flushMs);
  }

  /** Closes the socket once what is queued is written (within `flushMs`). */
  #end(): void {
    this.#ending = true;
    this.#timer ??= setTimeout(() => this.#destroy(), this.#opts.flushMs);
    if (!this.#flushing) this.#destroy();
  }

  /**
   * Queues a frame; a `capped` one (a pong: pings are the client's to send) past the outbox cap
   * closes the client as a slow reader, as an event would.
   */
  #send(frame: Uint8Array, capped: boolean): void {
    if (this.#closing || this.#closed) return;
    const cap = this.#opts.maxOutboxBytes;
    if (capped && this.#queued + frame.length > cap) {
      this.#reason ??= `output queue over ${cap} bytes (not reading)`;
      this.#destroy();
      return;
    }
    this.#queue.push(frame);
    this.#queued += frame.length;
    if (!this.#flushing) {
      this.#flushing = true;
      queueMicrotask(() => this.#flush());
    }
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0 && !this.#closed) {
        const chunk = this.#queue.length === 1 ? this.#queue[0] : join(this.#queue);
        this.#queue = [];
        let offset = 0;
        while (offset < chunk.length) offset += await this.#conn.write(chunk.subarray(offset));
        this.#queued -= chunk.length;
      }
    } catch (err) {
      this.#reason ??= socketErrorReason(err);
      this.#destroy();
    } finally {
      this.#flushing = false;
      if (this.#ending) this.#destroy();
    }
  }

  /** Closes the socket now, once; a pending read ends with an error. */
  #destroy(): void {
    this.#closing = true;
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#queue = [];
    this.#queued = 0;
    try {
      this.#conn.close();
    } catch {
      // Closed by the runtime already.
    }
    this.#done.resolve();
  }
}

function join(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
