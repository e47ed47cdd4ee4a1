// The input line as data: a buffer of grapheme clusters, a cursor and the input
// history, changed by editing operations. Pure; how the line is drawn is left to
// screen.ts, and what a submitted line means to the chat client.

import { graphemes } from "../width.ts";

/** How many submitted lines the input history keeps. */
export const HISTORY_SIZE = 200;

/** A single-line editor with readline-style operations and history. */
export class LineEditor {
  /** The line, one grapheme cluster per element, so the cursor never splits one. */
  #chars: string[] = [];
  /** Index into #chars: the cursor sits before #chars[#cursor]. */
  #cursor = 0;
  readonly #history: string[] = [];
  /** Index into #history while browsing it; equal to its length when not browsing. */
  #browse = 0;
  /** The line being typed when browsing started, restored past the newest entry. */
  #draft = "";

  /** The line as text. */
  get text(): string {
    return this.#chars.join("");
  }

  /** The line's grapheme clusters. */
  get chars(): readonly string[] {
    return this.#chars;
  }

  /** The cursor, in grapheme clusters from the start. */
  get cursor(): number {
    return this.#cursor;
  }

  /** The text before the cursor. */
  get beforeCursor(): string {
    return this.#chars.slice(0, this.#cursor).join("");
  }

  /** Submitted lines, oldest first. */
  get history(): readonly string[] {
    return this.#history;
  }

  /** Inserts text at the cursor; combining marks join the character before them. */
  insert(text: string): void {
    this.replaceBeforeCursor(this.beforeCursor + text);
  }

  /** Replaces everything before the cursor with `before` (completion, insertion). */
  replaceBeforeCursor(before: string): void {
    const after = this.#chars.slice(this.#cursor).join("");
    this.#chars = graphemes(before + after);
    // Count the clusters that end within `before`; one that straddles it (a combining
    // mark typed before one already there) puts the cursor after it.
    let end = 0;
    let cursor = 0;
    for (const g of this.#chars) {
      if (end >= before.length) break;
      end += g.length;
      cursor++;
    }
    this.#cursor = cursor;
  }

  /** Moves the cursor one character left; false at the start. */
  left(): boolean {
    if (this.#cursor === 0) return false;
    this.#cursor--;
    return true;
  }

  /** Moves the cursor one character right; false at the end. */
  right(): boolean {
    if (this.#cursor === this.#chars.length) return false;
    this.#cursor++;
    return true;
  }

  /** Moves the cursor to the start. */
  home(): boolean {
    const moved = this.#cursor !== 0;
    this.#cursor = 0;
    return moved;
  }

  /** Moves the cursor to the end. */
  end(): boolean {
    const moved = this.#cursor !== this.#chars.length;
    this.#cursor = this.#chars.length;
    return moved;
  }

  /** Deletes the character before the cursor. */
  backspace(): boolean {
    if (this.#cursor === 0) return false;
    this.#chars.splice(--this.#cursor, 1);
    return true;
  }

  /** Deletes the character under the cursor. */
  deleteForward(): boolean {
    if (this.#cursor === this.#chars.length) return false;
    this.#chars.splice(this.#cursor, 1);
    return true;
  }

  /** Deletes the word before the cursor and the spaces after it (Ctrl+W). */
  deleteWord(): boolean {
    let start = this.#cursor;
    while (start > 0 && /\s/.test(this.#chars[start - 1])) start--;
    while (start > 0 && !/\s/.test(this.#chars[start - 1])) start--;
    if (start === this.#cursor) return false;
    this.#chars.splice(start, this.#cursor - start);
    this.#cursor = start;
    return true;
  }

  /** Deletes everything before the cursor (Ctrl+U); at the end, the whole line. */
  deleteToStart(): boolean {
    if (this.#cursor === 0) return false;
    this.#chars.splice(0, this.#cursor);
    this.#cursor = 0;
    return true;
  }

  /** Replaces the line with the previous history entry; false when there is none. */
  historyUp(): boolean {
    if (this.#browse === 0) return false;
    if (this.#browse === this.#history.length) this.#draft = this.text;
    this.#set(this.#history[--this.#browse]);
    return true;
  }

  /** Replaces the line with the next history entry, or the draft past the newest. */
  historyDown(): boolean {
    if (this.#browse === this.#history.length) return false;
    this.#browse++;
    this.#set(this.#browse === this.#history.length ? this.#draft : this.#history[this.#browse]);
    return true;
  }

  /** Empties the line and returns it, adding it to the history unless blank or a repeat. */
  submit(): string {
    const line = this.text;
    if (line.trim() !== "" && this.#history.at(-1) !== line) {
      this.#history.push(line);
      if (this.#history.length > HISTORY_SIZE) this.#history.shift();
    }
    this.#browse = this.#history.length;
    this.#draft = "";
    this.#set("");
    return line;
  }

  /** Empties the line without keeping it (Ctrl+C on a non-empty line). */
  clear(): void {
    this.#browse = this.#history.length;
    this.#draft = "";
    this.#set("");
  }

  #set(text: string): void {
    this.#chars = graphemes(text);
    this.#cursor = this.#chars.length;
  }
}
