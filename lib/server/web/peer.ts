// A browser's connection as the hub sees it: a Peer whose JSON event lines become WebSocket text
// frames, one event a frame, with the same bounded output as a TCP session. What comes in is the
// door's (door.ts); what the events mean is the hub's.

import type { Peer } from "../hub.ts";

/** How long a close reason may be in a WebSocket close frame, in bytes. */
const CLOSE_REASON_BYTES = 123;

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/** What a {@link WebPeer} needs of a WebSocket (Deno's, or a fake in tests). */
export interface FrameSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

/** Settings for one web connection. */
export interface WebPeerOptions {
  /** Bytes waiting to be sent before the client is closed as one that stopped reading. */
  maxOutboxBytes: number;
  /** Longest wait, once closing, before the hub is told the connection is gone. */
  flushMs: number;
  /** Called once when the connection is over for the hub, with why. */
  gone(reason: string): void;
}

/** A WebSocket as a hub Peer. */
export class WebPeer implements Peer {
  readonly address: string;
  readonly #socket: FrameSocket;
  readonly #opts: WebPeerOptions;
  #reason: string | undefined;
  #closing = false;
  #gone = false;
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(socket: FrameSocket, address: string, options: WebPeerOptions) {
    this.#socket = socket;
    this.address = address;
    this.#opts = options;
  }

  /** Why the connection is closing or closed, once it is. */
  get reason(): string | undefined {
    return this.#reason;
  }

  /**
   * Sends each line of `bytes` (JSON events ending in CRLF) as a text frame. Past the outbox
   * cap the client is closed as a slow reader; a `reply` is sent whenever the backlog is under
   * the cap (see Peer).
   */
  write(bytes: Uint8Array, reply = false): void {
    if (this.#closing || this.#socket.readyState !== WebSocket.OPEN) return;
    const cap = this.#opts.maxOutboxBytes;
    const backlog = this.#socket.bufferedAmount;
    if (reply ? backlog >= cap : backlog + bytes.length > cap) {
      this.close(`output queue over ${cap} bytes (not reading)`, 1008);
      return;
    }
    try {
      for (const line of decoder.decode(bytes).split("\r\n")) {
        if (line !== "") this.#socket.send(line);
      }
    } catch {
      // Closed under us: the close event says so.
    }
  }

  /**
   * Closes with a close frame saying `reason` (after what is queued); the hub is told the
   * connection is gone when the socket closes, or `flushMs` later at the latest.
   */
  close(reason?: string, code = 1000): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#reason ??= reason;
    this.#timer = setTimeout(() => this.closed(), this.#opts.flushMs);
    try {
      this.#socket.close(code, closeReason(reason ?? ""));
    } catch {
      // Closed already.
    }
  }

  /** The socket closed (or the wait for it is over): tells the hub, once. */
  closed(reason = "connection closed by peer"): void {
    clearTimeout(this.#timer);
    if (this.#gone) return;
    this.#gone = true;
    this.#closing = true;
    this.#reason ??= reason;
    this.#opts.gone(this.#reason);
  }
}

/** `reason` cut to fit a close frame (123 bytes), at a character boundary. */
export function closeReason(reason: string): string {
  if (encoder.encode(reason).length <= CLOSE_REASON_BYTES) return reason;
  let cut = "";
  for (const ch of reason) {
    if (encoder.encode(cut + ch + "...").length > CLOSE_REASON_BYTES) break;
    cut += ch;
  }
  return cut + "...";
}
