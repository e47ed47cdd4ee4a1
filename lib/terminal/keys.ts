// Keyboard input in raw mode -> typed keys: a pure state machine fed decoded text
// chunks. It knows control bytes and the CSI/SS3 escape sequences terminals send for
// the editing keys; what a key does is left to editor.ts and screen.ts.

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
      | "ctrl-d";
  };

/** The name of a key other than text. */
export type KeyName = Exclude<Key["name"], "text">;

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

/** A complete escape sequence at the start of `s`, or "incomplete", or null for none. */
function escapeAt(s: string): { length: number; key?: KeyName } | "incomplete" {
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
  const key = m[3] === "~" ? TILDES[params[0]] : FINALS[m[3]];
  return { length: m[0].length, key };
}

/**
 * Turns raw-mode terminal input into keys. Sequences split across chunks are held
 * until they are complete; a CR LF pair is one Enter.
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

  /** Feeds decoded text; returns the keys it completes. */
  feed(chunk: string): Key[] {
    const s = this.#pending + chunk;
    this.#pending = "";
    const keys: Key[] = [];
    let text = "";
    const flush = () => {
      if (text !== "") keys.push({ name: "text", text });
      text = "";
    };
    let i = 0;
    while (i < s.length) {
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
}
