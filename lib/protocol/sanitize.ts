// Makes user text safe to show on someone else's terminal: removes C0/C1 controls (tab
// kept), DEL, ANSI escape sequences, bidirectional controls and invisible characters.
// Pure; callers decide where text enters and which form applies (message or label).

/** Escape sequences, 7-bit and 8-bit: CSI, OSC (to BEL or ST), DCS/SOS/PM/APC, and two-byte ESC x. */
const ESCAPES =
  // deno-lint-ignore no-control-regex
  /\x1b\[[0-?]*[ -/]*[@-~]?|\x9b[0-?]*[ -/]*[@-~]?|(?:\x1b[\]PX^_]|[\x90\x98\x9d\x9e\x9f])[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?|\x1b[ -~]?/g;
/** Single characters that never reach another terminal. */
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;
/**
 * Characters drawn as nothing: Unicode's Default_Ignorable_Code_Point (soft hyphen, zero-width
 * space and joiners, word joiner and invisible operators, Hangul fillers, variation selectors,
 * BOM, tags, ...) and the interlinear annotation marks U+FFF9-FFFB.
 */
const INVISIBLES = /[\p{Default_Ignorable_Code_Point}\uFFF9-\uFFFB]/gu;
const INVISIBLE = /^[\p{Default_Ignorable_Code_Point}\uFFF9-\uFFFB]$/u;
const PICTOGRAPHIC = /^\p{Extended_Pictographic}$/u;
/** What a presentation selector (U+FE0E text, U+FE0F emoji) may follow: `❤️`, `1️⃣`. */
const EMOJI = /^\p{Emoji}$/u;
const MODIFIER = /^\p{Emoji_Modifier}$/u;
const ZWJ = "\u200d";
const BLACK_FLAG = "\u{1f3f4}";
const CANCEL_TAG = 0xe007f;
/** A subdivision flag's tag letters (U+E0020-E007E read as ASCII), as in `gbeng` for England. */
const SUBDIVISION = /^[a-z]{2}[a-z0-9]{1,3}$/;

/** True when `code` (a UTF-16 unit) is, or may start, something the sanitizer removes. */
function isUnsafe(code: number): boolean {
  if (code < 0x20) return code !== 0x09;
  if (code < 0x7f) return false;
  if (code <= 0xa0) return code <= 0x9f;
  if (code < 0x034f) return code === 0xad;
  return code === 0x034f || code === 0x061c || code === 0x115f || code === 0x1160 ||
    code === 0x17b4 || code === 0x17b5 || (code >= 0x180b && code <= 0x180f) ||
    (code >= 0x200b && code <= 0x200f) || (code >= 0x2028 && code <= 0x202e) ||
    (code >= 0x2060 && code <= 0x206f) || code === 0x3164 ||
    (code >= 0xfe00 && code <= 0xfe0f) || code === 0xfeff || code === 0xffa0 ||
    (code >= 0xfff0 && code <= 0xfffb) ||
    // High surrogates of U+1BCA0-1BCA3, U+1D173-1D17A and U+E0000-E0FFF.
    code === 0xd82f || code === 0xd834 || (code >= 0xdb40 && code <= 0xdb43);
}

/** Whether `text` has nothing to remove: the fast path, one scan and no copy. */
function isClean(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    if (isUnsafe(text.charCodeAt(i))) return false;
  }
  return true;
}

/**
 * Removes invisible characters but those inside an emoji: a zero-width joiner between two
 * pictographs (👨‍👩‍👧, 🏳️‍🌈), a presentation selector after an emoji, and the tag letters
 * of a subdivision flag after 🏴 up to the cancel tag (🏴󠁧󠁢󠁥󠁮󠁧󠁿).
 */
function keepEmoji(text: string): string {
  const chars = Array.from(text);
  let out = "";
  /** The last character kept is part of an emoji: a joiner may follow it. */
  let inEmoji = false;
  let prev = "";
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (!INVISIBLE.test(c)) {
      inEmoji = PICTOGRAPHIC.test(c) || (inEmoji && MODIFIER.test(c));
    } else if (c === ZWJ) {
      if (!inEmoji || !PICTOGRAPHIC.test(chars[i + 1] ?? "")) continue;
      inEmoji = false;
    } else if (c === "\ufe0e" || c === "\ufe0f") {
      if (!EMOJI.test(prev)) continue;
    } else {
      const end = chars[i - 1] === BLACK_FLAG ? tagEnd(chars, i) : -1;
      if (end < 0) continue;
      out += chars.slice(i, end + 1).join("");
      prev = chars[end];
      i = end;
      continue;
    }
    out += c;
    prev = c;
  }
  return out;
}

/** Where the subdivision tags starting at `chars[start]` end (the cancel tag), or -1. */
function tagEnd(chars: string[], start: number): number {
  let spec = "";
  for (let i = start; i < chars.length && i - start <= 5; i++) {
    const code = chars[i].codePointAt(0)!;
    if (code === CANCEL_TAG) return SUBDIVISION.test(spec) ? i : -1;
    if (code < 0xe0020 || code > 0xe007e) return -1;
    spec += String.fromCharCode(code - 0xe0000);
  }
  return -1;
}

/**
 * Returns message text with every control character, escape sequence and invisible
 * character removed, but the joiners, selectors and tags that hold an emoji together.
 *
 * @example
 * ```ts
 * sanitize("hi \x1b[2Jthere\u202e"); // "hi there"
 * sanitize("a\u200bb 👨\u200d👩"); // "ab 👨‍👩" (the joiner between two emoji stays)
 * ```
 */
export function sanitize(text: string): string {
  if (isClean(text)) return text;
  return keepEmoji(text.replace(ESCAPES, "").replace(CONTROLS, ""));
}

/**
 * Returns a label (a topic, a reason, a name) with every control character, escape
 * sequence and invisible character removed, emoji joiners included.
 *
 * @example
 * ```ts
 * sanitizeLabel("news\u200b 👨\u200d👩"); // "news 👨👩"
 * ```
 */
export function sanitizeLabel(text: string): string {
  if (isClean(text)) return text;
  return text.replace(ESCAPES, "").replace(CONTROLS, "").replace(INVISIBLES, "");
}
