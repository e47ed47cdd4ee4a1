// Makes user text safe to show on someone else's terminal: removes C0/C1 controls
// (tab kept), DEL, ANSI CSI/OSC/other escape sequences and bidirectional overrides.
// Pure; callers decide where text enters (the hub sanitizes everything users send).

/** Escape sequences, 7-bit and 8-bit: CSI, OSC (to BEL or ST), DCS/SOS/PM/APC, and two-byte ESC x. */
const ESCAPES =
  // deno-lint-ignore no-control-regex
  /\x1b\[[0-?]*[ -/]*[@-~]?|\x9b[0-?]*[ -/]*[@-~]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[ -~]?/g;
/** Single characters that never reach another terminal. */
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/** True when `code` is a character the sanitizer removes or that starts a sequence. */
function isUnsafe(code: number): boolean {
  return (code < 0x20 && code !== 0x09) || (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c || code === 0x200e || code === 0x200f ||
    (code >= 0x2028 && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

/**
 * Returns `text` with every control character and escape sequence removed.
 *
 * @example
 * ```ts
 * sanitize("hi \x1b[2Jthere\u202e"); // "hi there"
 * ```
 */
export function sanitize(text: string): string {
  for (let i = 0; i < text.length; i++) {
    if (isUnsafe(text.charCodeAt(i))) {
      return text.replace(ESCAPES, "").replace(CONTROLS, "");
    }
  }
  return text;
}
