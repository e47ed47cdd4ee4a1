// The chat screen as a pure state machine: keys in, screen operations out. Printed
// lines go above the input line, wrapped with indented continuation rows, and the input
// line is redrawn with its cursor intact; long input scrolls horizontally. Reading keys
// and writing bytes are left to tty.ts.

import type { Line, ScreenOp } from "../ansi.ts";
import { complete } from "./complete.ts";
import { LineEditor } from "./editor.ts";
import type { Key } from "./keys.ts";
import { columns } from "../width.ts";
import { wrapLine } from "../wrap.ts";

/**
 * Where a printed line continues when it is wider than the terminal: under the text after
 * the `HH:MM ` time stamp, so a wrapped tail never starts at column 0 like a line of its own.
 */
export const CONTINUATION_INDENT = 6;

/** What a key did besides drawing. */
export interface KeyResult {
  ops: ScreenOp[];
  /** Enter was pressed: the line to send. */
  submit?: string;
  /** Ctrl+C or Ctrl+D on an empty line: the user wants to leave. */
  quit?: boolean;
  /** Ctrl+X: the user wants to talk in the next room. */
  nextRoom?: boolean;
}

/** Settings for a {@link Screen}. */
export interface ScreenOptions {
  /** Terminal width in columns. */
  cols: number;
  /** Text before the input, e.g. `"> "`. */
  prompt?: string;
  /** The names Tab completes, read at each Tab. */
  names?: () => Iterable<string>;
}

/** The input line at the bottom of a terminal, with everything printed above it. */
export class Screen {
  readonly editor = new LineEditor();
  #cols: number;
  #prompt: string;
  readonly #names: () => Iterable<string>;
  /** Index of the first character shown: the horizontal scroll. */
  #first = 0;
  /** Typing a secret: shown as `*`, kept out of history, no completion. */
  #secret = false;
  /** The input row as last drawn: its width and the cursor's column. */
  #drawn = { width: 0, cursor: 0 };

  constructor(options: ScreenOptions) {
    this.#cols = Math.max(1, options.cols);
    this.#prompt = options.prompt ?? "";
    this.#names = options.names ?? (() => []);
  }

  /** The terminal width the screen lays out for. */
  get cols(): number {
    return this.#cols;
  }

  /** Handles one key. */
  key(key: Key): KeyResult {
    const e = this.editor;
    switch (key.name) {
      case "text":
        e.insert(key.text);
        return { ops: this.#input() };
      case "left":
        return this.#moved(e.left());
      case "right":
        return this.#moved(e.right());
      case "home":
        return this.#moved(e.home());
      case "end":
        return this.#moved(e.end());
      case "backspace":
        return this.#moved(e.backspace());
      case "delete":
        return this.#moved(e.deleteForward());
      case "ctrl-w":
        return this.#moved(e.deleteWord());
      case "ctrl-u":
        return this.#moved(e.deleteToStart());
      case "up":
        return this.#moved(!this.#secret && e.historyUp());
      case "down":
        return this.#moved(!this.#secret && e.historyDown());
      case "tab":
        return this.#secret ? { ops: [{ op: "bell" }] } : this.#tab();
      case "enter": {
        let submit: string;
        if (this.#secret) {
          submit = e.text;
          e.clear();
        } else {
          submit = e.submit();
        }
        return { ops: this.#input(), submit };
      }
      case "ctrl-c":
        if (e.text === "") return { ops: [], quit: true };
        e.clear();
        return { ops: this.#input() };
      case "ctrl-d":
        if (e.text === "") return { ops: [], quit: true };
        return this.#moved(e.deleteForward());
      case "ctrl-x":
        // The input stays as typed; the prompt changes when the server says so.
        return this.#secret ? { ops: [{ op: "bell" }] } : { ops: [], nextRoom: true };
    }
  }

  /** Prints lines above the input line, each wrapped to the terminal's width, and redraws it. */
  print(lines: readonly Line[]): ScreenOp[] {
    const ops: ScreenOp[] = [{ op: "clear" }];
    for (const row of lines.flatMap((l) => wrapLine(l, this.#cols, CONTINUATION_INDENT))) {
      for (const span of row) ops.push({ op: "write", text: span.text, style: span.style });
      ops.push({ op: "newline" });
    }
    return ops.concat(this.#input());
  }

  /**
   * Lays the input out for a new terminal width. A terminal that reflows its text on a
   * resize (tmux, most emulators) splits an input row wider than the new width over
   * several rows, the cursor on the one holding its column: all of them are erased first.
   */
  resize(cols: number): ScreenOp[] {
    this.#cols = Math.max(1, cols);
    const { width, cursor } = this.#drawn;
    if (width <= this.#cols) return this.#input();
    const up = Math.floor(cursor / this.#cols);
    const ops: ScreenOp[] = [{ op: "clearBelow", up }];
    return ops.concat(this.#input());
  }

  /**
   * Changes the prompt (the name prompt, a password prompt, then the chat prompt);
   * `secret` input is shown as `*` and kept out of history.
   */
  setPrompt(prompt: string, secret = false): ScreenOp[] {
    this.#prompt = prompt;
    this.#secret = secret;
    return this.#input();
  }

  /** Draws the input line again. */
  redraw(): ScreenOp[] {
    return this.#input();
  }

  /** Erases the input line, leaving the cursor at column 0 for whatever comes last. */
  finish(): ScreenOp[] {
    this.#drawn = { width: 0, cursor: 0 };
    return [{ op: "clear" }];
  }

  /** The cursor's column on the terminal, prompt included. */
  get cursorColumn(): number {
    const { promptShown, before } = this.#layout();
    return columns(promptShown) + columns(before);
  }

  /** The text of the input row as drawn: prompt and the visible part of the input. */
  get inputRow(): string {
    const { promptShown, visible } = this.#layout();
    return promptShown + visible;
  }

  #moved(changed: boolean): KeyResult {
    return { ops: changed ? this.#input() : [{ op: "bell" }] };
  }

  #tab(): KeyResult {
    const result = complete(this.editor.beforeCursor, this.#names());
    switch (result.kind) {
      case "none":
        return { ops: [{ op: "bell" }] };
      case "replace":
        this.editor.replaceBeforeCursor(result.before);
        return { ops: this.#input() };
      case "list":
        return { ops: this.print([[{ text: result.options.join("  "), style: { dim: true } }]]) };
    }
  }

  /**
   * Where things go on the input row. The last column stays free so the cursor never
   * wraps; the prompt is dropped when the terminal is too narrow for it.
   */
  #layout(): { promptShown: string; before: string; visible: string } {
    const chars = this.#secret ? this.editor.chars.map(() => "*") : this.editor.chars;
    const cursor = this.editor.cursor;
    const promptShown = columns(this.#prompt) + 2 <= this.#cols ? this.#prompt : "";
    const room = Math.max(1, this.#cols - 1 - columns(promptShown));
    // Scroll so the cursor fits: back to it when it went left of the window,
    // forward just enough when it went right of it.
    if (cursor < this.#first) this.#first = cursor;
    if (this.#first > chars.length) this.#first = chars.length;
    // Prefix sums of character widths: sum[i] is the width of chars[0..i).
    const sum = [0];
    for (const c of chars) sum.push(sum[sum.length - 1] + columns(c));
    while (this.#first < cursor && sum[cursor] - sum[this.#first] > room) this.#first++;
    // Show as much as fits; pull earlier text back in when there is room (after a delete).
    while (this.#first > 0 && sum[chars.length] - sum[this.#first - 1] <= room) this.#first--;
    let end = this.#first;
    while (end < chars.length && sum[end + 1] - sum[this.#first] <= room) end++;
    return {
      promptShown,
      before: chars.slice(this.#first, cursor).join(""),
      visible: chars.slice(this.#first, end).join(""),
    };
  }

  #input(): ScreenOp[] {
    const { promptShown, before, visible } = this.#layout();
    const ops: ScreenOp[] = [{ op: "clear" }];
    if (promptShown !== "") ops.push({ op: "write", text: promptShown, style: { bold: true } });
    if (visible !== "") ops.push({ op: "write", text: visible });
    const cursor = columns(promptShown) + columns(before);
    ops.push({ op: "column", col: cursor });
    this.#drawn = { width: columns(promptShown) + columns(visible), cursor };
    return ops;
  }
}
