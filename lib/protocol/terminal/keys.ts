// Keyboard input in raw mode -> typed keys: a pure state machine fed decoded text
// chunks. It knows control bytes, the CSI/SS3 escape sequences terminals send for the
// editing keys, and bracketed paste; what a key does is left to editor.ts and screen.ts.

/** The editing keys the client understands; `text` is typed (or pasted) characters. */
export type Key =
  | { name: "text"; text: string }
  | {
    name:
      | "left"
      | "right"
      | "home"
      | "end"
      | "backspace"
      | "delete"
      | "ctrl-w"
      | "ctrl-u"
      | "up"
      | "down"
      | "tab"
      | "enter"
      | "ctrl-c"
      | "ctrl-d"
      | "ctrl-x";
  };

/** The name of a key other than text. */
export type KeyName = Exclude<Key["name"], "text">;

/**
 * Pasted text (bracketed paste), never keys: its lines are separated by `\n` (whatever line
 * ends the terminal sent), tabs are spaces and other control characters are gone. A long
 * paste may come in several pieces.
 */
export interface Paste {
  name: "paste";
  text: string;
}

/** What the terminal sent: a key, or pasted text. */
export type Input = Key | Paste;

/** What a terminal in bracketed paste mode sends around a paste. */
const PASTE_START = "200";
const PASTE_END = "\x1b[201~";

const ESC = "\x1b";

/** Control bytes with a meaning; every other C0 control is ignored. */
const CONTROLS: Readonly<Record<string, KeyName>> = {
  "\x01": "home", // Ctrl+A
  "\x05": "end", // Ctrl+E
  "\x02": "left", // Ctrl+B
  "\x06": "right", // Ctrl+F
  "\x08": "backspace", // Ctrl+H
  "\x7f": "backspace",
  "\x17": "ctrl-w",
  "\x15": "ctrl-u",
  "\x09": "tab",
  "\x0d": "enter",
  "\x0a": "enter",
  "\x03": "ctrl-c",
  "\x04": "ctrl-d",
  "\x18": "ctrl-x", // next room
  "\x10": "up", // Ctrl+P
  "\x0e": "down", // Ctrl+N
};

/** Final bytes of `ESC [ ... X` and `ESC O X`. */
const FINALS: Readonly<Record<string, KeyName>> = {
  A: "up",
  B: "down",
  C: "right",
  D: "left",
  H: "home",
  F: "end",
};

/** `ESC [ N ~` sequences by their first parameter. */
const TILDES: Readonly<Record<string, KeyName>> = {
  "1": "home",
  "7": "home",
  "4": "end",
  "8": "end",
  "3": "delete",
};

/** A complete escape sequence at the start of `s` (a key, a paste's start), or "incomplete". */
function escapeAt(s: string): { length: number; key?: KeyName; paste?: true } | "incomplete" {
  if (s.length < 2) return "incomplete";
  if (s[1] === "O") {
    if (s.length < 3) return "incomplete";
    return { length: 3, key: FINALS[s[2]] };
  }
  if (s[1] !== "[") return { length: 1 }; // a lone ESC (or Alt+key): drop the ESC
  // The ESC was checked above; match the rest of a CSI sequence after it.
  const m = /^.\[([0-?]*)([ -/]*)([@-~])?/s.exec(s)!;
  if (m[3] === undefined) {
    return m[0].length === s.length ? "incomplete" : { length: m[0].length };
  }
  const params = m[1].split(";");
  if (m[3] === "~" && params[0] === PASTE_START) return { length: m[0].length, paste: true };
  const key = m[3] === "~" ? TILDES[params[0]] : FINALS[m[3]];
  return { length: m[0].length, key };
}

/** How much of the end of `s` could be the start of `marker`. */
function partialAt(s: string, marker: string): number {
  for (let n = Math.min(s.length, marker.length - 1); n > 0; n--) {
    if (marker.startsWith(s.slice(s.length - n))) return n;
  }
  return 0;
}

/**
 * Turns raw-mode terminal input into keys. Sequences split across chunks are held
 * until they are complete; a CR LF pair is one Enter. Text between the bracketed paste
 * markers is one {@link Paste} per chunk, never keys.
 *
 * @example
 * ```ts
 * const d = new KeyDecoder();
 * d.feed("hi\x1b[");  // [{ name: "text", text: "hi" }]
 * d.feed("D\r");      // [{ name: "left" }, { name: "enter" }]
 * ```
 */
export class KeyDecoder {
  #pending = "";
  #afterCR = false;
  /** Inside a bracketed paste. */
  #pasting = false;

  /** Feeds decoded text; returns the keys and pasted text it completes. */
  feed(chunk: string): Input[] {
    const s = this.#pending + chunk;
    this.#pending = "";
    const keys: Input[] = [];
    let text = "";
    const flush = () => {
      if (text !== "") keys.push({ name: "text", text });
      text = "";
    };
    let i = 0;
    while (i < s.length) {
      if (this.#pasting) {
        const end = s.indexOf(PASTE_END, i);
        // Without the end marker, keep what could be its start for the next chunk.
        const stop = end >= 0 ? end : s.length - partialAt(s, PASTE_END);
        const text = this.#pasted(s.slice(i, stop));
        if (text !== "") keys.push({ name: "paste", text });
        if (end < 0) {
          this.#pending = s.slice(stop);
          break;
        }
        this.#pasting = false;
        i = end + PASTE_END.length;
        continue;
      }
      const c = s[i];
      const afterCR = this.#afterCR;
      this.#afterCR = c === "\r";
      if (c === ESC) {
        const esc = escapeAt(s.slice(i));
        if (esc === "incomplete") {
          this.#pending = s.slice(i);
          break;
        }
        flush();
        if (esc.key) keys.push({ name: esc.key });
        if (esc.paste) this.#pasting = true;
        i += esc.length;
        continue;
      }
      const code = c.charCodeAt(0);
      if (code < 0x20 || code === 0x7f) {
        flush();
        const key = CONTROLS[c];
        if (key && !(c === "\n" && afterCR)) keys.push({ name: key });
      } else if (!(code >= 0x80 && code <= 0x9f)) {
        text += c;
      }
      i++;
    }
    flush();
    return keys;
  }

  /** Pasted text with `\n` line ends (a CR LF pair is one), tabs as spaces, no controls. */
  #pasted(raw: string): string {
    let text = "";
    for (const c of raw) {
      const afterCR = this.#afterCR;
      this.#afterCR = c === "\r";
      if (c === "\r" || c === "\n") {
        if (!(c === "\n" && afterCR)) text += "\n";
      } else if (c === "\t") {
        text += " ";
      } else {
        const code = c.charCodeAt(0);
        if (code >= 0x20 && !(code >= 0x7f && code <= 0x9f)) text += c;
      }
    }
    return text;
  }
}
