// Character mode for a telnet client that let the server echo (WILL ECHO, WILL SGA): keys
// in, one at a time, edited by chat-client's own pure line editor and screen
// (lib/protocol/terminal/), the input line redrawn under whatever the server prints.
// Negotiation is negotiation.ts's, what a line means the hub's; this only edits and draws.

import { encodeOps, type ScreenOp } from "../../protocol/ansi.ts";
import { type Input, KeyDecoder } from "../../protocol/terminal/keys.ts";
import { Screen } from "../../protocol/terminal/screen.ts";

const encoder = new TextEncoder();

/**
 * Bytes of submitted lines kept for Up/Down at most; past it the history starts again, so a
 * connection holds tens of KiB, not the editor's 200 lines of up to --max-line each.
 */
export const HISTORY_BYTES = 32 * 1024;

/** Characters fed without a single key: an escape sequence that never ends is dropped. */
const MAX_UNKEYED = 256;

/** What character mode reports to its owner. */
export interface CharModeSink {
  /** A line typed and sent with Enter. */
  line(text: string): void;
  /** Bytes for the peer's terminal (the line as edited, a bell). */
  draw(bytes: Uint8Array): void;
  /** Ctrl+X: the user wants the next of its rooms. */
  nextRoom?(): void;
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
  #screen: Screen;
  #keys = new KeyDecoder();
  readonly #options: CharModeOptions;
  /** Characters fed since the decoder last gave a key. */
  #unkeyed = 0;
  /** Bytes of the lines in the editor's history. */
  #historyBytes = 0;
  /** The input row needs drawing, and the bell ringing, once this chunk is handled. */
  #dirty = false;
  #bell = false;
  readonly #decoder = new TextDecoder("utf-8", { fatal: false, ignoreBOM: true });
  readonly #sink: CharModeSink;
  readonly #max: number;
  /** The next line is a password: shown as `*`, kept out of history. */
  #secret = false;
  /** The prompt before the input (the active room), outside a password. */
  #prompt = "";

  constructor(options: CharModeOptions, sink: CharModeSink) {
    this.#options = options;
    this.#screen = new Screen({ cols: options.cols, names: options.names });
    this.#max = options.maxLineBytes;
    this.#sink = sink;
  }

  /** The input row as drawn (prompt and visible text), for tests. */
  get inputRow(): string {
    return this.#screen.inputRow;
  }

  /**
   * Typed bytes (data only: negotiation taken out already). The input row is drawn once per
   * chunk, however many keys it held: a burst of keys costs one redraw, not one each.
   */
  feed(bytes: Uint8Array): void {
    const text = this.#decoder.decode(bytes, { stream: true });
    if (text === "") return;
    const inputs = this.#keys.feed(text);
    this.#unkeyed = inputs.length > 0 ? 0 : this.#unkeyed + text.length;
    if (this.#unkeyed > MAX_UNKEYED) {
      this.#keys = new KeyDecoder();
      this.#unkeyed = 0;
    }
    for (const input of inputs) this.#input(input);
    this.#flush();
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

  /** The prompt before the input line: where plain text goes (`#dev> `). */
  setPrompt(prompt: string): void {
    if (prompt === this.#prompt) return;
    this.#prompt = prompt;
    if (!this.#secret) this.#draw(this.#screen.setPrompt(prompt));
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
      if (encoder.encode(screen.editor.text + text).length > this.#max) this.#bell = true;
      else this.#changed(screen.key({ name: "text", text }).ops);
      return;
    }
    // Ctrl+C and Ctrl+D never leave: /quit does (a telnet user expects telnet's own keys).
    if ((input.name === "ctrl-c" || input.name === "ctrl-d") && screen.editor.text === "") return;
    if (input.name === "ctrl-x") {
      if (this.#secret) this.#bell = true;
      else this.#sink.nextRoom?.();
      return;
    }
    const result = screen.key(input);
    if (result.submit === undefined) {
      this.#changed(result.ops);
      return;
    }
    // The line typed stays on the screen as sent (a password does not), then the input row.
    this.#flush();
    const secret = this.#secret;
    this.#secret = false;
    if (secret) {
      screen.setPrompt(this.#prompt, false);
    } else {
      this.#draw([{ op: "clear" }, { op: "write", text: result.submit }, { op: "newline" }]);
      this.#kept(result.submit);
    }
    this.#dirty = true;
    this.#sink.line(result.submit);
  }

  /** What a key did: a bell, a redraw of the input row (later), or lines printed (now). */
  #changed(ops: readonly ScreenOp[]): void {
    if (ops.some((o) => o.op === "newline")) {
      this.#draw(ops);
      this.#dirty = false;
    } else if (ops.some((o) => o.op === "bell")) {
      this.#bell = true;
    } else if (ops.length > 0) {
      this.#dirty = true;
    }
  }

  /** Draws what the keys of a chunk left to draw. */
  #flush(): void {
    const ops: ScreenOp[] = this.#dirty ? this.#screen.redraw() : [];
    if (this.#bell) ops.push({ op: "bell" });
    this.#dirty = this.#bell = false;
    this.#draw(ops);
  }

  /** Counts a line kept in history; past {@link HISTORY_BYTES} the history starts again. */
  #kept(line: string): void {
    this.#historyBytes += encoder.encode(line).length;
    if (this.#historyBytes <= HISTORY_BYTES) return;
    this.#historyBytes = 0;
    this.#screen = new Screen({
      cols: this.#screen.cols,
      names: this.#options.names,
      prompt: this.#prompt,
    });
  }

  #draw(ops: readonly ScreenOp[]): void {
    if (ops.length > 0) this.#sink.draw(this.#encode(ops));
  }

  #encode(ops: readonly ScreenOp[]): Uint8Array {
    return encoder.encode(encodeOps(ops, false));
  }
}
