// IRC lines in: one line (already framed, at most 510 bytes) into its command and parameters.
// Pure: what a command means is registration.ts's and commands.ts's; message tags a client
// sends are read and ignored.

/** One IRC message from a client. */
export interface IrcMessage {
  /** The command, upper-cased (`PRIVMSG`, `NICK`, ...); empty for a blank line. */
  command: string;
  /** Its parameters; the trailing one (after ` :`) may hold spaces or be empty. */
  params: string[];
}

/** The most parameters read; the rest of a longer line is left out (RFC 1459 allows 15). */
export const MAX_PARAMS = 15;

/**
 * Parses one IRC line (without its CRLF). Tags (`@...`) and a source (`:...`) are skipped.
 *
 * @example
 * ```ts
 * parseIrc("PRIVMSG #dev :hello there");
 * // { command: "PRIVMSG", params: ["#dev", "hello there"] }
 * ```
 */
export function parseIrc(line: string): IrcMessage {
  let rest = line.replace(/^ +/, "");
  if (rest.startsWith("@")) rest = afterWord(rest);
  if (rest.startsWith(":")) rest = afterWord(rest);
  const space = rest.indexOf(" ");
  const command = (space < 0 ? rest : rest.slice(0, space)).toUpperCase();
  rest = space < 0 ? "" : rest.slice(space + 1);
  const params: string[] = [];
  while (rest.length > 0 && params.length < MAX_PARAMS) {
    if (rest.startsWith(" ")) {
      rest = rest.slice(1);
      continue;
    }
    if (rest.startsWith(":") || params.length === MAX_PARAMS - 1) {
      params.push(rest.startsWith(":") ? rest.slice(1) : rest);
      break;
    }
    const end = rest.indexOf(" ");
    params.push(end < 0 ? rest : rest.slice(0, end));
    rest = end < 0 ? "" : rest.slice(end + 1);
  }
  return { command, params };
}

/** The text after the first word and the spaces following it. */
function afterWord(text: string): string {
  const space = text.indexOf(" ");
  return space < 0 ? "" : text.slice(space + 1).replace(/^ +/, "");
}

/** CTCP ACTION text of a PRIVMSG, or undefined when it is not one. */
export function ctcpAction(text: string): string | undefined {
  // deno-lint-ignore no-control-regex
  const m = /^\x01ACTION(?: (.*?))?\x01?$/s.exec(text);
  return m ? (m[1] ?? "") : undefined;
}

/** Whether a PRIVMSG or NOTICE text is a CTCP request or reply (`\x01...`). */
export function isCtcp(text: string): boolean {
  return text.startsWith("\x01");
}
