// Bytes in, lines out: a pure state machine fed chunks by a transport that only reads.
// It ends lines at LF, CRLF, CR NUL or a bare CR, strips telnet IAC negotiation (unless told
// the stream is not telnet: IRC), and never holds more than the line limit; it leaves sanitizing text to sanitize.ts.

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;
const IAC = 0xff;
const SB = 0xfa;
const SE = 0xf0;
const WILL = 0xfb;
const DONT = 0xfe;

const enum State {
  Data,
  /** After CR: a following LF or NUL belongs to the same line ending. */
  AfterCR,
  /** After IAC. */
  Iac,
  /** After IAC WILL/WONT/DO/DONT: the next byte is the option. */
  Option,
  /** Inside IAC SB ... IAC SE. */
  Sub,
  /** After IAC inside a subnegotiation. */
  SubIac,
}

const decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
/** No partial line: shared by every framer, so an idle connection holds no buffer. */
const EMPTY = new Uint8Array(0);

/** What the framer reports to its owner. */
export interface FramerSink {
  /** A complete line, decoded; invalid UTF-8 is replaced with U+FFFD. */
  line(text: string): void;
  /** The current line passed the limit; it is being discarded up to its end. */
  overlong(): void;
}

/**
 * Splits a byte stream into lines of at most `maxBytes` bytes.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const f = new LineFramer(4096, { line: (l) => lines.push(l), overlong() {} });
 * f.push(new TextEncoder().encode("hel"));
 * f.push(new TextEncoder().encode("lo\r\n"));
 * // lines is ["hello"]
 * ```
 */
export class LineFramer {
  readonly #max: number;
  readonly #sink: FramerSink;
  /** Partial line carried between chunks; grows on demand, never past #max. */
  #buf: Uint8Array = EMPTY;
  #len = 0;
  #state = State.Data;
  #discarding = false;
  /** Whether 0xFF starts a telnet command (false: it is a data byte like any other). */
  readonly #telnet: boolean;

  constructor(maxBytes: number, sink: FramerSink, telnet = true) {
    this.#max = maxBytes;
    this.#sink = sink;
    this.#telnet = telnet;
  }

  /** Bytes of a partial line held right now (never more than the limit). */
  get buffered(): number {
    return this.#len;
  }

  /** Drops the partial line (telnet's Interrupt Process or Erase Line). */
  clear(): void {
    this.#len = 0;
    if (this.#buf.length > 256) this.#buf = EMPTY;
  }

  /** Drops the last character of the partial line (a Backspace the framer is told of). */
  erase(): void {
    while (this.#len > 0 && (this.#buf[--this.#len] & 0xc0) === 0x80) {
      // A UTF-8 continuation byte: keep going to the character's first byte.
    }
  }

  /** Feeds one chunk; calls the sink for each line or overlong line it completes. */
  push(chunk: Uint8Array): void {
    let segStart = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      switch (this.#state) {
        case State.Data:
          if (b === LF || b === CR) {
            this.#endLine(chunk, segStart, i);
            segStart = i + 1;
            if (b === CR) this.#state = State.AfterCR;
          } else if (b === IAC && this.#telnet) {
            this.#append(chunk, segStart, i);
            segStart = i + 1;
            this.#state = State.Iac;
          }
          continue;
        case State.AfterCR:
          this.#state = State.Data;
          if (b === LF || b === NUL) {
            segStart = i + 1;
          } else {
            i--; // reprocess this byte as data
          }
          continue;
        case State.Iac:
          if (b === IAC) {
            // An escaped 0xFF data byte: keep it (it decodes as U+FFFD).
            this.#state = State.Data;
            segStart = i;
          } else {
            this.#state = b === SB ? State.Sub : b >= WILL && b <= DONT ? State.Option : State.Data;
            segStart = i + 1;
          }
          continue;
        case State.Option:
          this.#state = State.Data;
          segStart = i + 1;
          continue;
        case State.Sub:
          if (b === IAC) this.#state = State.SubIac;
          segStart = i + 1;
          continue;
        case State.SubIac:
          this.#state = b === SE ? State.Data : State.Sub;
          segStart = i + 1;
          continue;
      }
    }
    if (this.#state === State.Data) this.#append(chunk, segStart, chunk.length);
  }

  /** Adds chunk[from, to) to the partial line, or starts discarding past the limit. */
  #append(chunk: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n <= 0 || this.#discarding) return;
    const need = this.#len + n;
    if (need > this.#max) {
      this.#discarding = true;
      this.#len = 0;
      this.#buf = EMPTY;
      this.#sink.overlong();
      return;
    }
    if (need > this.#buf.length) {
      const grown = new Uint8Array(Math.min(this.#max, Math.max(need, this.#buf.length * 2, 64)));
      grown.set(this.#buf.subarray(0, this.#len));
      this.#buf = grown;
    }
    this.#buf.set(chunk.subarray(from, to), this.#len);
    this.#len = need;
  }

  /** Ends the line made of the partial line plus chunk[from, to). */
  #endLine(chunk: Uint8Array, from: number, to: number): void {
    if (this.#len === 0 && !this.#discarding) {
      if (to - from > this.#max) {
        this.#sink.overlong();
      } else {
        // The common case: the whole line is inside this chunk, no copy needed.
        this.#sink.line(decoder.decode(chunk.subarray(from, to)));
      }
      return;
    }
    this.#append(chunk, from, to);
    if (this.#discarding) {
      this.#discarding = false;
      return;
    }
    const text = decoder.decode(this.#buf.subarray(0, this.#len));
    this.#len = 0;
    if (this.#buf.length > 256) this.#buf = EMPTY;
    this.#sink.line(text);
  }
}
