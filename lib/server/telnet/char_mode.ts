// Character mode for a telnet client that let the server echo (WILL ECHO, WILL SGA): keys
// in, one at a time, edited by chat-client's own pure line editor and screen
// (lib/client/terminal/), the input line redrawn under whatever the server prints.
// Negotiation is negotiation.ts's, what a line means the hub's; this only edits and draws.

import { encodeOps, type ScreenOp } from "../../protocol/ansi.ts";
import { type Input, KeyDecoder } from "../../client/terminal/keys.ts";
import { Screen } from "../../client/terminal/screen.ts";

const encoder = new TextEncoder();

/** What character mode reports to its owner. */
export interface CharModeSink {
  /** A line typed and sent with Enter. */
  line(text: string): void;
  /** Bytes for the peer's terminal (the line as edited, a bell). */
  draw(bytes: Uint8Array): void;
}

/** Settings for {@link CharMode}. */
export interface CharModeOptions {
  /** The terminal's width, until NAWS says otherwise. */
  cols: number;
  /** The longest line, in UTF-8 bytes: typing past it rings the bell. */
  maxLineBytes: number;
  /** The names Tab completes, read at each Tab. */
  names: () => Iterable<string>;
}

/**
 * One telnet client's input line, edited on the server.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const m = new CharMode({ cols: 80, maxLineBytes: 4096, names: () => [] }, {
 *   line: (t) => lines.push(t),
 *   draw() {},
 * });
 * m.feed(new TextEncoder().encode("hi\x7fo\r\0"));
 * // lines is ["ho"]
 * ```
 */
export class CharMode {
  readonly #screen: Screen;
  readonly #keys = new KeyDecoder();
  readonly #decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  readonly #sink: CharModeSink;
  readonly #max: number;
  /** The next line is a password: shown as `*`, kept out of history. */
  #secret = false;

  constructor(options: CharModeOptions, sink: CharModeSink) {
    this.#screen = new Screen({ cols: options.cols, names: options.names });
    this.#max = options.maxLineBytes;
    this.#sink = sink;
  }

  /** The input row as drawn (prompt and visible text), for tests. */
  get inputRow(): string {
    return this.#screen.inputRow;
  }

  /** Typed bytes (data only: negotiation taken out already). */
  feed(bytes: Uint8Array): void {
    const text = this.#decoder.decode(bytes, { stream: true });
    if (text === "") return;
    for (const input of this.#keys.feed(text)) this.#input(input);
  }

  /** The bytes that draw the input line (when character mode starts). */
  redraw(): Uint8Array {
    return this.#encode(this.#screen.redraw());
  }

  /** `bytes` (whole lines from the server) printed above the input line, which is redrawn. */
  above(bytes: Uint8Array): Uint8Array {
    const before = this.#encode([{ op: "clear" }]);
    const after = this.redraw();
    const out = new Uint8Array(before.length + bytes.length + after.length);
    out.set(before);
    out.set(bytes, before.length);
    out.set(after, before.length + bytes.length);
    return out;
  }

  /** The next line is a password: shown as `*` while typed, kept out of history. */
  hideNextLine(): void {
    this.#secret = true;
    this.#draw(this.#screen.setPrompt("", true));
  }

  /** Drops the line being typed (telnet's Interrupt Process, Erase Line). */
  clear(): void {
    if (this.#screen.editor.text === "") return;
    this.#draw(this.#screen.key({ name: "ctrl-c" }).ops);
  }

  /** The terminal's new width (NAWS): the input is laid out again. */
  resize(cols: number): void {
    if (cols > 0 && cols !== this.#screen.cols) this.#draw(this.#screen.resize(cols));
  }

  #input(input: Input): void {
    const screen = this.#screen;
    if (input.name === "paste" || input.name === "text") {
      const text = input.text.replaceAll("\n", " ");
      if (encoder.encode(screen.editor.text + text).length > this.#max) {
        this.#draw([{ op: "bell" }]);
        return;
      }
      this.#draw(screen.key({ name: "text", text }).ops);
      return;
    }
    // Ctrl+C and Ctrl+D never leave: /quit does (a telnet user expects telnet's own keys).
    if ((input.name === "ctrl-c" || input.name === "ctrl-d") && screen.editor.text === "") return;
    if (input.name === "ctrl-x") return;
    const result = screen.key(input);
    if (result.submit === undefined) {
      this.#draw(result.ops);
      return;
    }
    // The line typed stays on the screen as sent (a password does not), then the input row.
    const ops: ScreenOp[] = this.#secret ? [] : [
      { op: "clear" },
      { op: "write", text: result.submit },
      { op: "newline" },
    ];
    if (this.#secret) {
      this.#secret = false;
      ops.push(...screen.setPrompt("", false));
    } else {
      ops.push(...result.ops);
    }
    this.#draw(ops);
    this.#sink.line(result.submit);
  }

  #draw(ops: readonly ScreenOp[]): void {
    if (ops.length > 0) this.#sink.draw(this.#encode(ops));
  }

  #encode(ops: readonly ScreenOp[]): Uint8Array {
    return encoder.encode(encodeOps(ops, false));
  }
}
