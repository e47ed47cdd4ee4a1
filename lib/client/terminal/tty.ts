// The thin TTY layer: raw mode and bracketed paste on stdin, key bytes read and decoded,
// pasted lines submitted as they are, screen operations encoded and written to stdout,
// SIGWINCH turned into a resize, and the terminal always restored. What keys mean and what
// is drawn is left to screen.ts.

import { readStdin, writeStdoutSync } from "../../protocol/cli.ts";
import { encodeOps, type Line, RESET, type ScreenOp } from "../../protocol/ansi.ts";
import { KeyDecoder } from "../../protocol/terminal/keys.ts";

/** Turn bracketed paste on and off: the terminal then marks where a paste starts and ends. */
const BRACKETED_PASTE_ON = "\x1b[?2004h";
const BRACKETED_PASTE_OFF = "\x1b[?2004l";
import { Screen } from "../../protocol/terminal/screen.ts";

/** What the user did at the terminal. */
export interface TtyHandlers {
  /** Enter, or a line end in pasted text: a line to handle. */
  line(text: string): void;
  /** Ctrl+C or Ctrl+D on an empty line. */
  quit(): void;
  /** Ctrl+X: on to the next room. */
  nextRoom(): void;
  /** stdin ended (the terminal went away). */
  end(): void;
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

/**
 * The chat screen on a real terminal (stdin and stdout both TTYs). Opening it turns
 * raw mode on; {@link Tty.restore} (also run on `unload` and on an uncaught error)
 * turns it off and shows the cursor.
 */
export class Tty {
  readonly screen: Screen;
  readonly #color: boolean;
  #restored = false;
  readonly #resize = () => this.#draw(this.screen.resize(terminalColumns()));
  readonly #restoreOnExit = () => this.restore();

  private constructor(color: boolean, names: () => Iterable<string>) {
    this.#color = color;
    this.screen = new Screen({ cols: terminalColumns(), names });
  }

  /** Puts the terminal in raw mode and draws the (empty) input line. */
  static open(options: { color: boolean; names: () => Iterable<string> }): Tty {
    const tty = new Tty(options.color, options.names);
    Deno.stdin.setRaw(true);
    writeStdoutSync(BRACKETED_PASTE_ON);
    for (const event of ["unload", "error", "unhandledrejection"]) {
      globalThis.addEventListener(event, tty.#restoreOnExit);
    }
    try {
      Deno.addSignalListener("SIGWINCH", tty.#resize);
    } catch {
      // No SIGWINCH on Windows: the width is read again at each redraw there.
    }
    tty.#draw(tty.screen.redraw());
    return tty;
  }

  /** Prints lines above the input line. */
  print(lines: readonly Line[]): void {
    this.#draw(this.screen.print(lines));
  }

  /** Changes the prompt before the input; `secret` input is shown as `*`. */
  setPrompt(prompt: string, secret = false): void {
    this.#draw(this.screen.setPrompt(prompt, secret));
  }

  /** Reads keys until stdin ends or the terminal is restored. */
  async read(handlers: TtyHandlers): Promise<void> {
    const decoder = new TextDecoder();
    const keys = new KeyDecoder();
    const buf = new Uint8Array(4096);
    for (;;) {
      const n = await readStdin(buf);
      if (this.#restored) return;
      if (n === null) {
        handlers.end();
        return;
      }
      for (const key of keys.feed(decoder.decode(buf.subarray(0, n), { stream: true }))) {
        if (this.#restored) return;
        if (key.name === "paste") {
          this.#paste(key.text, handlers);
          continue;
        }
        const result = this.screen.key(key);
        this.#draw(result.ops);
        if (result.submit !== undefined) handlers.line(result.submit);
        if (result.quit) handlers.quit();
        if (result.nextRoom) handlers.nextRoom();
      }
    }
  }

  /** Erases the input line, resets colours, shows the cursor, leaves raw mode. Idempotent. */
  restore(): void {
    if (this.#restored) return;
    this.#restored = true;
    for (const event of ["unload", "error", "unhandledrejection"]) {
      globalThis.removeEventListener(event, this.#restoreOnExit);
    }
    try {
      Deno.removeSignalListener("SIGWINCH", this.#resize);
    } catch {
      // Never added.
    }
    try {
      writeStdoutSync(encodeOps(this.screen.finish(), false) + RESET + BRACKETED_PASTE_OFF);
    } catch {
      // stdout is gone; raw mode still has to be turned off.
    }
    try {
      Deno.stdin.setRaw(false);
    } catch {
      // stdin is gone with the terminal.
    }
  }

  /**
   * Pasted text goes into the input line; each line end in it submits the line as it stands,
   * with no completion and no history entry: a pasted block is sent line by line.
   */
  #paste(text: string, handlers: TtyHandlers): void {
    const editor = this.screen.editor;
    const [first, ...rest] = text.split("\n");
    editor.insert(first);
    for (const piece of rest) {
      const line = editor.text;
      editor.clear();
      handlers.line(line);
      if (this.#restored) return;
      editor.insert(piece);
    }
    this.#draw(this.screen.redraw());
  }

  #draw(ops: readonly ScreenOp[]): void {
    if (this.#restored || ops.length === 0) return;
    try {
      writeStdoutSync(encodeOps(ops, this.#color));
    } catch {
      // The terminal went away; the read loop ends next.
    }
  }
}
