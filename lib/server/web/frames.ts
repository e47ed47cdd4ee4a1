// WebSocket frames (RFC 6455), pure: a reader fed client bytes in chunks of any size that checks
// each frame's header before it holds a byte of its payload, and the encoders for what the server
// sends. Sockets, the upgrade and what a message means are the door's (door.ts).

/** Frame opcodes. */
export const enum Opcode {
  Continuation = 0x0,
  Text = 0x1,
  Binary = 0x2,
  Close = 0x8,
  Ping = 0x9,
  Pong = 0xa,
}

/** Close codes the door sends. */
export const enum CloseCode {
  Normal = 1000,
  GoingAway = 1001,
  ProtocolError = 1002,
  Unsupported = 1003,
  NoStatus = 1005,
  InvalidData = 1007,
  Policy = 1008,
  TooBig = 1009,
}

/** How long a control frame's payload (and so a close reason, with its code) may be. */
const CONTROL_BYTES = 125;
/** How long a close reason may be in a close frame, in bytes. */
const CLOSE_REASON_BYTES = CONTROL_BYTES - 2;

/** Why a binary frame is refused (the page and bots speak text). */
export const BINARY_REFUSED = "binary frames are refused: send text (a line or a JSON request)";

/** Why a message over the line limit is refused. */
export function tooBigReason(maxBytes: number): string {
  return `frame over ${maxBytes} bytes (the line limit); closed`;
}

/** What a {@link FrameReader} reports to its owner. */
export interface FrameSink {
  /** A whole text message (its fragments joined), valid UTF-8. */
  text(message: string): void;
  /** A ping, with its payload (at most 125 bytes) to send back in a pong. */
  ping(payload: Uint8Array): void;
  /** The client's close frame: its code (1005 when it gave none) and reason. */
  close(code: number, reason: string): void;
  /** The client broke the protocol or a limit; nothing more is read. Close with `code`. */
  fail(code: number, reason: string): void;
}

const enum State {
  Header,
  Payload,
  Done,
}

const fatal = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);

/**
 * Reads the frames of one client connection. A message (all its fragments) is held only once
 * its length is known to be at most `maxMessageBytes`; a longer one is refused from its header
 * (close 1009), a binary one too (1003), before any of its payload is kept.
 *
 * @example
 * ```ts
 * const texts: string[] = [];
 * const reader = new FrameReader(4096, {
 *   text: (t) => texts.push(t), ping() {}, close() {}, fail() {},
 * });
 * reader.push(new Uint8Array([0x81, 0x82, 0, 0, 0, 0, 0x68, 0x69])); // masked "hi"
 * // texts is ["hi"]
 * ```
 */
export class FrameReader {
  readonly #max: number;
  readonly #sink: FrameSink;
  #state = State.Header;
  /** The header so far (2 to 14 bytes). */
  readonly #head = new Uint8Array(14);
  #headLen = 0;
  /** The frame being read. */
  #fin = false;
  #opcode = 0;
  readonly #mask = new Uint8Array(4);
  #payloadLen = 0;
  #payloadRead = 0;
  /** A control frame's payload (at most 125 bytes). */
  readonly #control = new Uint8Array(CONTROL_BYTES);
  /** The message being read (a text message's fragments so far), grown on demand. */
  #message: Uint8Array = EMPTY;
  #messageLen = 0;
  /** A text message is under way (its first frame had no FIN). */
  #fragmented = false;

  constructor(maxMessageBytes: number, sink: FrameSink) {
    this.#max = maxMessageBytes;
    this.#sink = sink;
  }

  /** Whether reading is over (a close frame, or the client was failed). */
  get done(): boolean {
    return this.#state === State.Done;
  }

  /** Bytes held for the message under way (never more than the limit). */
  get buffered(): number {
    return this.#message.length;
  }

  /** Feeds bytes from the client; after a close or a failure, they are ignored. */
  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && this.#state !== State.Done) {
      if (this.#state === State.Header) {
        this.#head[this.#headLen++] = chunk[i++];
        const need = headerBytes(this.#head, this.#headLen);
        if (this.#headLen === need) this.#header();
      } else {
        const take = Math.min(chunk.length - i, this.#payloadLen - this.#payloadRead);
        this.#payload(chunk.subarray(i, i + take));
        i += take;
        if (this.#payloadRead === this.#payloadLen) this.#endFrame();
      }
    }
  }

  /** A whole header is in: checks it, and the length it announces, before any payload. */
  #header(): void {
    const head = this.#head;
    this.#headLen = 0;
    this.#fin = (head[0] & 0x80) !== 0;
    this.#opcode = head[0] & 0x0f;
    if ((head[0] & 0x70) !== 0) return this.#fail(CloseCode.ProtocolError, "reserved bits set");
    if ((head[1] & 0x80) === 0) return this.#fail(CloseCode.ProtocolError, "unmasked frame");
    let len = head[1] & 0x7f;
    let at = 2;
    if (len === 126) {
      len = (head[2] << 8) | head[3];
      at = 4;
    } else if (len === 127) {
      if ((head[2] & 0x80) !== 0) return this.#fail(CloseCode.ProtocolError, "bad length");
      // Past 2^53 precision is lost, but anything that long is refused anyway.
      len = ((head[2] << 24 >>> 0) + (head[3] << 16) + (head[4] << 8) + head[5]) * 2 ** 32 +
        ((head[6] << 24 >>> 0) + (head[7] << 16) + (head[8] << 8) + head[9]);
      at = 10;
    }
    this.#mask.set(head.subarray(at, at + 4));
    this.#payloadLen = len;
    this.#payloadRead = 0;
    const op = this.#opcode;
    if (op >= 0x8) {
      if (op !== Opcode.Close && op !== Opcode.Ping && op !== Opcode.Pong) {
        return this.#fail(CloseCode.ProtocolError, `unknown opcode ${op}`);
      }
      if (!this.#fin || len > CONTROL_BYTES) {
        return this.#fail(CloseCode.ProtocolError, "control frame fragmented or too long");
      }
    } else if (op === Opcode.Binary) {
      return this.#fail(CloseCode.Unsupported, BINARY_REFUSED);
    } else if (op === Opcode.Text) {
      if (this.#fragmented) return this.#fail(CloseCode.ProtocolError, "fragment expected");
      this.#messageLen = 0;
    } else if (op === Opcode.Continuation) {
      if (!this.#fragmented) return this.#fail(CloseCode.ProtocolError, "no message to continue");
    } else {
      return this.#fail(CloseCode.ProtocolError, `unknown opcode ${op}`);
    }
    if (op < 0x8) {
      if (this.#messageLen + len > this.#max) {
        return this.#fail(CloseCode.TooBig, tooBigReason(this.#max));
      }
      this.#fragmented = !this.#fin;
      const need = this.#messageLen + len;
      if (need > this.#message.length) {
        // Grown for what this frame announces, never past the limit.
        const grown = new Uint8Array(Math.min(this.#max, Math.max(need, this.#message.length * 2)));
        grown.set(this.#message.subarray(0, this.#messageLen));
        this.#message = grown;
      }
    }
    this.#state = State.Payload;
    if (len === 0) this.#endFrame();
  }

  /** Unmasks payload bytes into the message or the control buffer. */
  #payload(part: Uint8Array): void {
    const control = this.#opcode >= 0x8;
    const out = control ? this.#control : this.#message;
    let at = control ? this.#payloadRead : this.#messageLen + this.#payloadRead;
    const mask = this.#mask;
    let k = this.#payloadRead;
    for (let j = 0; j < part.length; j++) out[at++] = part[j] ^ mask[k++ & 3];
    this.#payloadRead += part.length;
  }

  #endFrame(): void {
    this.#state = State.Header;
    const len = this.#payloadLen;
    switch (this.#opcode) {
      case Opcode.Text:
      case Opcode.Continuation: {
        this.#messageLen += len;
        if (!this.#fin) return;
        let text: string;
        try {
          text = fatal.decode(this.#message.subarray(0, this.#messageLen));
        } catch {
          return this.#fail(CloseCode.InvalidData, "invalid UTF-8 in a text frame");
        }
        this.#messageLen = 0;
        this.#message = EMPTY;
        this.#sink.text(text);
        return;
      }
      case Opcode.Ping:
        this.#sink.ping(this.#control.slice(0, len));
        return;
      case Opcode.Pong:
        return;
      case Opcode.Close:
        return this.#closeFrame(this.#control.subarray(0, len));
    }
  }

  #closeFrame(payload: Uint8Array): void {
    if (payload.length === 0) {
      this.#state = State.Done;
      this.#sink.close(CloseCode.NoStatus, "");
      return;
    }
    const code = payload.length >= 2 ? (payload[0] << 8) | payload[1] : 0;
    if (!validCloseCode(code)) return this.#fail(CloseCode.ProtocolError, "bad close code");
    let reason: string;
    try {
      reason = fatal.decode(payload.subarray(2));
    } catch {
      return this.#fail(CloseCode.InvalidData, "invalid UTF-8 in a close reason");
    }
    this.#state = State.Done;
    this.#sink.close(code, reason);
  }

  #fail(code: number, reason: string): void {
    this.#state = State.Done;
    this.#message = EMPTY;
    this.#sink.fail(code, reason);
  }
}

/** How many bytes the header whose first `have` bytes are in `head` takes. */
function headerBytes(head: Uint8Array, have: number): number {
  if (have < 2) return 2;
  const len = head[1] & 0x7f;
  return 2 + (len === 126 ? 2 : len === 127 ? 8 : 0) + ((head[1] & 0x80) !== 0 ? 4 : 0);
}

/** Codes a client may send in a close frame (RFC 6455 section 7.4). */
function validCloseCode(code: number): boolean {
  if (code >= 3000 && code <= 4999) return true;
  return code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006;
}

/** One unmasked, final frame from the server. */
export function encodeFrame(opcode: Opcode, payload: Uint8Array): Uint8Array {
  const len = payload.length;
  const headLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = new Uint8Array(headLen + len);
  out[0] = 0x80 | opcode;
  if (len < 126) {
    out[1] = len;
  } else if (len < 65536) {
    out[1] = 126;
    out[2] = len >> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = 127;
    new DataView(out.buffer).setBigUint64(2, BigInt(len));
  }
  out.set(payload, headLen);
  return out;
}

/** A text frame of `text`. */
export function textFrame(text: string): Uint8Array {
  return encodeFrame(Opcode.Text, encoder.encode(text));
}

/** A close frame with `code` and `reason` (cut to fit by {@link closeReason}). */
export function closeFrame(code: number, reason = ""): Uint8Array {
  const text = encoder.encode(closeReason(reason));
  const payload = new Uint8Array(2 + text.length);
  payload[0] = code >> 8;
  payload[1] = code & 0xff;
  payload.set(text, 2);
  return encodeFrame(Opcode.Close, payload);
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
