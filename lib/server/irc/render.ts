// IRC lines out: a source, a command and parameters into one CRLF-ended line of at most 512
// bytes (IRCv3 tags aside), with no CR, LF or NUL from anyone's text. Pure; the door's parts
// decide what to say.

const encoder = new TextEncoder();

/** The most bytes of an IRC line before its CRLF (RFC 1459: 512 with it). */
export const IRC_LINE_BYTES = 510;

/** Anything that would end or cut an IRC line, in text from anyone. */
const BREAKS = /[\r\n\0]/g;

/** A middle parameter: no space, no leading `:`, never empty. */
function middle(param: string): string {
  const clean = param.replace(BREAKS, "").replaceAll(" ", "_");
  return clean === "" ? "*" : clean.startsWith(":") ? `_${clean.slice(1)}` : clean;
}

/**
 * One IRC line with its CRLF: `@TAGS :SOURCE COMMAND P1 P2 :LAST`. The last parameter is
 * `trailing` (after `:`, as servers send text) unless told otherwise and it needs no colon.
 * CR, LF and NUL in any parameter become spaces (the last) or go (the others); a line over
 * 510 bytes has its last parameter cut at a character boundary.
 *
 * @example
 * ```ts
 * ircLine("srv", "001", ["alice", "Welcome alice"]); // ":srv 001 alice :Welcome alice\r\n"
 * ```
 */
export function ircLine(
  source: string | undefined,
  command: string,
  params: readonly string[],
  tags?: string,
  trailing = true,
): string {
  let head = source === undefined ? command : `:${middle(source)} ${command}`;
  const last = params.length - 1;
  for (let i = 0; i < last; i++) head += ` ${middle(params[i])}`;
  let line = head;
  if (last >= 0) {
    const text = params[last].replace(BREAKS, " ");
    const colon = trailing || text === "" || text.includes(" ") || text.startsWith(":");
    line = `${head} ${colon ? ":" : ""}${text}`;
    line = cutToBytes(line, IRC_LINE_BYTES);
  }
  return `${tags ? `@${tags} ` : ""}${line}\r\n`;
}

/** `text` cut to at most `max` UTF-8 bytes, at a character boundary. */
export function cutToBytes(text: string, max: number): string {
  if (utf8Bytes(text) <= max) return text;
  return splitBytes(text, max)[0];
}

/** The UTF-8 size of `text` (a lone surrogate counts as U+FFFD, three bytes). */
export function utf8Bytes(text: string): number {
  return encoder.encode(text).length;
}

/**
 * `text` in pieces of at most `max` UTF-8 bytes each (at least 1 character per piece), cut at
 * character boundaries, at the last space of a piece when there is one in its second half.
 *
 * @example
 * ```ts
 * splitBytes("hello world", 8); // ["hello", "world"]
 * ```
 */
export function splitBytes(text: string, max: number): string[] {
  const pieces: string[] = [];
  let start = 0;
  while (start < text.length) {
    let bytes = 0;
    let end = start;
    while (end < text.length) {
      const cp = text.codePointAt(end)!;
      const size = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
      if (bytes + size > max && end > start) break;
      bytes += size;
      end += cp >= 0x10000 ? 2 : 1;
    }
    if (end < text.length) {
      const space = text.lastIndexOf(" ", end);
      if (space > start + (end - start) / 2) {
        pieces.push(text.slice(start, space));
        start = space + 1;
        continue;
      }
    }
    pieces.push(text.slice(start, end));
    start = end;
  }
  return pieces;
}

/** An IRCv3 `time` tag value for `ts` (ms since the epoch). */
export function timeTag(ts: number): string {
  return `time=${new Date(ts).toISOString()}`;
}
