// Sending to the IRC client: numerics, server notices and PRIVMSGs split to fit a line, with
// their time when the client asked for server-time. Lines are built by render.ts; what to say
// is the other parts'.

import { IRC_LINE_BYTES, ircLine, splitBytes, timeTag, utf8Bytes } from "./render.ts";
import { type DoorState, me } from "./state.ts";

/** The host part every user's `nick!nick@host` shows: addresses are for operators only. */
export const USER_HOST = "linechat";

/** `nick!nick@host` for a user. */
export function source(nick: string): string {
  return `${nick}!${nick}@${USER_HOST}`;
}

/** What sending works with; the door gives its own. */
export interface WireContext {
  serverName: string;
  state: DoorState;
  /**
   * Writes one IRC line (CRLF included) to the client; `reply` when it answers the client's
   * own line (chat from others is not a reply).
   */
  write(line: string, reply: boolean): void;
}

/** How a PRIVMSG or NOTICE is sent. */
export interface MessageOptions {
  /** A CTCP ACTION (`/me`). */
  action?: boolean;
  /** When it was said, for server-time. */
  ts?: number;
  /** From a room's history: without server-time the text starts with its `[HH:MM]`. */
  history?: boolean;
  notice?: boolean;
}

/** Lines to one IRC client. */
export class IrcWire {
  readonly #ctx: WireContext;

  /** Writes through `ctx`. */
  constructor(ctx: WireContext) {
    this.#ctx = ctx;
  }

  /** The server's name, the source of its own lines. */
  get serverName(): string {
    return this.#ctx.serverName;
  }

  /** Sends a line built by render.ts. */
  send(line: string, reply = true): void {
    this.#ctx.write(line, reply);
  }

  /** A numeric reply to this client: `:server NNN nick params...`. */
  numeric(code: string, params: string[]): void {
    this.send(ircLine(this.#ctx.serverName, code, [me(this.#ctx.state), ...params]));
  }

  /** A server NOTICE to this client, split into lines that fit. */
  notice(text: string): void {
    for (const piece of splitBytes(text, 400)) {
      this.send(ircLine(this.#ctx.serverName, "NOTICE", [me(this.#ctx.state), piece]));
    }
  }

  /** A PRIVMSG (or NOTICE) split into lines that fit, each with its time when asked for. */
  message(from: string, target: string, text: string, options: MessageOptions = {}): void {
    const src = source(from);
    const command = options.notice ? "NOTICE" : "PRIVMSG";
    const tags = this.#ctx.state.caps.has("server-time") && options.ts !== undefined
      ? timeTag(options.ts)
      : undefined;
    if (options.history && !tags && options.ts !== undefined) {
      text = `[${new Date(options.ts).toISOString().slice(11, 16)}] ${text}`;
    }
    const overhead = utf8Bytes(`:${src} ${command} ${target} :`) + (options.action ? 9 : 0);
    for (const piece of splitBytes(text, IRC_LINE_BYTES - overhead)) {
      const body = options.action ? `\x01ACTION ${piece}\x01` : piece;
      this.send(ircLine(src, command, [target, body], tags), false);
    }
  }
}
