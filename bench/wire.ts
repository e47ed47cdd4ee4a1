// The two dialects the load process speaks, as pure functions: linechat's text mode and
// IRC (for ngIRCd). Handshake steps over decoded lines, the bench's message line, and a
// byte-level parser for the mark a message carries. Sockets are left to load.ts.

/** Which protocol the load speaks. */
export type Dialect = "linechat" | "irc";

/** The IRC channel every bench client joins. */
export const CHANNEL = "#bench";

/** What to do after a handshake line. */
export interface Step {
  /** Bytes to send (already with line endings). */
  send?: string;
  /** The client now has its name (linechat) or is registered and in the channel (IRC). */
  named?: boolean;
  /** The server refused us; the text says why. */
  error?: string;
}

/** What a client sends as soon as it is connected (IRC registers at once). */
export function greeting(dialect: Dialect, name: string): string {
  return dialect === "irc" ? `NICK ${name}\r\nUSER ${name} 0 * :bench\r\n` : "";
}

/**
 * One step of the handshake, given the line received at `stage` (0 first). linechat:
 * wait for the name prompt, send the name, wait for `* welcome, NAME!` (which also puts
 * the client in the one room). IRC: wait for 001 (registered: named); with `join`, then
 * send JOIN and wait for our own JOIN echoed. Returns the step and the next stage.
 */
export function handshake(
  dialect: Dialect,
  name: string,
  stage: number,
  line: string,
  join: boolean,
): [Step, number] {
  if (dialect === "linechat") {
    if (line.startsWith("! ")) return [{ error: line }, stage];
    if (stage === 0 && line.startsWith("choose a name:")) return [{ send: `${name}\r\n` }, 1];
    if (stage === 1 && line.startsWith(`* welcome, ${name}!`)) return [{ named: true }, 2];
    return [{}, stage];
  }
  if (line.startsWith("PING ")) return [{ send: `PONG ${line.slice(5)}\r\n` }, stage];
  if (line.startsWith("ERROR ")) return [{ error: line }, stage];
  const numeric = ircNumeric(line);
  if (numeric >= 400 && numeric < 600) return [{ error: line }, stage];
  if (stage === 0 && numeric === 1) {
    return join ? [{ send: `JOIN ${CHANNEL}\r\n` }, 1] : [{ named: true }, 2];
  }
  if (stage === 1 && line.startsWith(`:${name}!`) && line.includes(" JOIN ")) {
    return [{ named: true }, 2];
  }
  return [{}, stage];
}

/** The numeric of an IRC reply (`:server 001 nick ...`), or -1. */
function ircNumeric(line: string): number {
  const sp = line.indexOf(" ");
  if (!line.startsWith(":") || sp < 0) return -1;
  const code = line.slice(sp + 1, sp + 4);
  return /^\d{3}$/.test(code) && line[sp + 4] === " " ? Number(code) : -1;
}

/** The chat text of one bench message: sender index, sequence number, send time in µs. */
export function markText(sender: number, seq: number, sentUs: number): string {
  return `bench message =${sender},${seq},${sentUs}`;
}

/** The line a client sends to say `text` to everyone (the room or the channel). */
export function messageLine(dialect: Dialect, text: string): string {
  return dialect === "irc" ? `PRIVMSG ${CHANNEL} :${text}\r\n` : `${text}\r\n`;
}

/** Where {@link parseMark} puts what it found (reused, so parsing allocates nothing). */
export interface Mark {
  sender: number;
  seq: number;
  sentUs: number;
}

const scratch = new Float64Array(3);

/**
 * Reads the mark `=SENDER,SEQ,MICROS` at the end of the line `bytes[start, end)` (line
 * ending removed), scanning backwards; true and `out` filled when it is there. Works for
 * both `NAME: TEXT` and `:nick!user@host PRIVMSG #bench :TEXT`.
 */
export function parseMark(bytes: Uint8Array, start: number, end: number, out: Mark): boolean {
  let i = end - 1;
  const nums = scratch;
  for (let k = 2; k >= 0; k--) {
    let value = 0;
    let scale = 1;
    const last = i;
    while (i >= start) {
      const b = bytes[i];
      if (b < 0x30 || b > 0x39) break;
      value += (b - 0x30) * scale;
      scale *= 10;
      i--;
    }
    if (i === last || i < start) return false;
    const sep = bytes[i];
    if (sep !== (k === 0 ? 0x3d : 0x2c)) return false; // '=' before the first, ',' between
    nums[k] = value;
    i--;
  }
  out.sender = nums[0];
  out.seq = nums[1];
  out.sentUs = nums[2];
  return true;
}
