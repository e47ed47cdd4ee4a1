// Server -> client events: one typed union, rendered at the edge as text lines for
// telnet/nc or as one JSON object per line for programs. User text in an event is
// already sanitized by the hub; rendering formats it, and in text mode lays it out so
// it can never pass for a line of the server's. Wrapping itself is wrap.ts's.

import type { RequestId } from "./commands.ts";
import { plainText } from "./ansi.ts";
import { clock } from "./looks.ts";
import { wrapLine } from "./wrap.ts";

/** Every event a server sends. `ts` is milliseconds since the Unix epoch. */
export type ServerEvent =
  /**
   * First line on connect. `rate` and `burst` are the server's flood control: lines a second
   * after a burst of `burst` at once (`rate` 0: none); a client paces its input under them.
   */
  | {
    type: "welcome";
    ts: number;
    server: string;
    version: string;
    text: string;
    rate?: number;
    burst?: number;
  }
  /**
   * What the next plain line is: a name; a password, `about` the server's or a registered
   * `name`'s (asked again after a wrong one until it is right or given up); or, `ready`, chat
   * again for a named client that left a password prompt without a new name.
   */
  | { type: "prompt"; ts: number; text: string; for: "name" | "ready" }
  | { type: "prompt"; ts: number; text: string; for: "password"; about: "server" }
  | { type: "prompt"; ts: number; text: string; for: "password"; about: "name"; name: string }
  /** Your name is now `name` (first naming, auto-naming or rename). */
  | { type: "named"; ts: number; name: string; previous?: string; auto: boolean }
  /**
   * A message to the room; `history` marks one replayed from before you arrived; `notice`
   * one that programs must never answer automatically (IRC's NOTICE).
   */
  | {
    type: "message";
    ts: number;
    from: string;
    room: string;
    text: string;
    history?: true;
    notice?: true;
  }
  /** `/me`: `from` does `text`. */
  | { type: "action"; ts: number; from: string; room: string; text: string; history?: true }
  /** A private message to you (`notice`: never to be answered automatically). */
  | { type: "private"; ts: number; from: string; to: string; text: string; notice?: true }
  /** A group message to you and the others in `to`. */
  | { type: "group"; ts: number; from: string; to: string[]; text: string }
  /** Confirms your private or group message was delivered to `to`. */
  | { type: "sent"; ts: number; kind: "private" | "group"; to: string[]; text: string }
  /** A line from the operator at the server's console. */
  | { type: "announce"; ts: number; from: "server"; text: string }
  /**
   * `name` came into `room`: as it came online (`moved` absent) or, already online, by joining
   * another room. `count` is the number online, `members` the number in the room. Never sent
   * to the one joining (it gets `room`).
   */
  | {
    type: "join";
    ts: number;
    name: string;
    room: string;
    count: number;
    members: number;
    moved?: true;
  }
  /**
   * `name` left `room` and is still online (with the reason it gave). Sent to the room and to
   * the one leaving, whose rooms it tells.
   */
  | {
    type: "leave";
    ts: number;
    name: string;
    room: string;
    count: number;
    members: number;
    reason?: string;
  }
  /**
   * `name` went offline; `count` is the number still online. One per viewer, however many
   * rooms it shared with `name`.
   */
  | { type: "quit"; ts: number; name: string; count: number; reason?: string }
  /** `from` is now called `to`. */
  | { type: "rename"; ts: number; from: string; to: string }
  /**
   * The names in `room` (`*`: everyone online); `online` counts everyone; `omitted` names
   * did not fit in one reply.
   */
  | {
    type: "users";
    ts: number;
    room: string;
    names: string[];
    count: number;
    online: number;
    omitted?: number;
    /** Which of `names` are operators, and which are away (absent: none). */
    operators?: string[];
    away?: string[];
  }
  /**
   * Your active room (where plain text goes) is now `room`, with these members (`omitted`:
   * more than fit) and topic: after you joined it (its history follows), or `switched` to
   * one you were in already.
   */
  | {
    type: "room";
    ts: number;
    room: string;
    names: string[];
    topic?: string;
    omitted?: number;
    switched?: true;
  }
  /**
   * The rooms, with their member counts and topics, and whether you are in each (`joined`)
   * and which is your active one; `omitted` rooms did not fit in one reply.
   */
  | {
    type: "rooms";
    ts: number;
    rooms: { name: string; members: number; topic?: string; joined?: true; active?: true }[];
    omitted?: number;
  }
  /** The topic of `room`; `changed` when `by` just set it (or removed it: no `topic`). */
  | { type: "topic"; ts: number; room: string; topic?: string; by?: string; changed: boolean }
  /** About a user: the rooms they are in, since when, how idle, whether away. */
  | {
    type: "whois";
    ts: number;
    name: string;
    rooms: string[];
    since: number;
    idleSeconds: number;
    away?: string;
    /** The user's address, shown to operators only (for `/ban ADDRESS`). */
    address?: string;
  }
  /** The message of the day. */
  | { type: "motd"; ts: number; lines: string[] }
  /** Help text, one entry per line. */
  | { type: "help"; ts: number; lines: string[] }
  /**
   * A server notice to you (a two-step prompt, an acknowledgement); `history` marks the one
   * in a replay saying how many older messages were left out.
   */
  | { type: "system"; ts: number; text: string; history?: true; room?: string }
  /** A history replay of `room` is over: `count` messages were replayed. */
  | { type: "history-end"; ts: number; room: string; count: number; history: true }
  /** A JSON request that nothing else answered (a room message, say) was done. */
  | { type: "ok"; ts: number }
  /** Your input was refused: `code` is stable for programs, `text` is for people. */
  | { type: "error"; ts: number; code: ErrorCode; text: string }
  /**
   * The connection's output mode changed; `name` is your name, if you have one;
   * `password` when the server still waits for its password (a prompt follows); `rate` and
   * `burst` are its flood control, as in `welcome`.
   */
  | {
    type: "mode";
    ts: number;
    mode: OutputMode;
    name: string | null;
    password?: true;
    rate?: number;
    burst?: number;
  }
  /** The server is closing this connection. */
  | { type: "bye"; ts: number; reason: string };

/** The room everyone starts in. */
export const LOBBY = "#lobby";

/** How a connection wants its events: text lines or JSON Lines. */
export type OutputMode = "text" | "json";

/** Stable error codes in `error` events. */
export type ErrorCode =
  | "usage"
  | "unknown-command"
  | "unknown-user"
  | "name-invalid"
  | "name-taken"
  | "no-name"
  | "not-allowed"
  | "line-too-long"
  | "flood"
  | "room-invalid"
  | "no-password"
  | "wrong-password"
  | "locked-out"
  | "looks-like-password"
  | "busy"
  | "name-banned"
  | "name-registered"
  | "muted"
  | "not-stored"
  | "bad-request"
  | "not-in-room"
  | "too-many-rooms"
  | "internal";

/** The type names of events. */
export type EventType = ServerEvent["type"];

/** Renders an event as the text a person reads; several lines are joined by CRLF. */
export function renderText(e: ServerEvent): string {
  switch (e.type) {
    case "welcome":
      return e.text;
    case "prompt":
      return e.for === "ready" ? `* ${e.text}` : e.text;
    case "named":
      if (e.previous !== undefined) return `* you are now ${e.name}`;
      return e.auto
        ? `* you are ${e.name} (change it with /nick NAME; /help lists the commands)`
        : `* welcome, ${e.name}! /help lists the commands`;
    case "message":
      return `${e.history ? `[history ${clock(e.ts)}] ` : ""}${e.from}: ${e.text}`;
    case "action":
      return `${e.history ? `[history ${clock(e.ts)}] ` : ""}* ${e.from} ${e.text}`;
    case "private":
      return `[pm from ${e.from}] ${e.text}`;
    case "group":
      return `[group from ${e.from} to ${e.to.join(", ")}] ${e.text}`;
    case "sent":
      return `[${e.kind === "private" ? "pm" : "group"} to ${e.to.join(", ")}] ${e.text}`;
    case "announce":
      return `[server] ${e.text}`;
    case "join":
      return e.moved
        ? `* ${e.name} joined ${e.room} (${e.members} here)`
        : `* ${e.name} joined (${e.count} online)`;
    case "leave":
      return `* ${e.name} left ${e.room}${e.reason ? `: ${e.reason}` : ""} (${e.members} here)`;
    case "quit":
      return `* ${e.name} left${e.reason ? `: ${e.reason}` : ""} (${e.count} online)`;
    case "rename":
      return `* ${e.from} is now ${e.to}`;
    case "users": {
      const more = e.omitted ? ` and ${e.omitted} more` : "";
      const names = e.names.map((n) =>
        `${e.operators?.includes(n) ? "@" : ""}${n}${e.away?.includes(n) ? " (away)" : ""}`
      ).join(", ");
      return e.count === e.online
        ? `* ${e.count} online: ${names}${more}`
        : `* ${e.count} in ${e.room} (${e.online} online): ${names}${more}`;
    }
    case "room":
      return [
        `* ${e.switched ? "now talking in" : "you are in"} ${e.room} (${
          e.names.length + (e.omitted ?? 0)
        } here: ${e.names.join(", ")}${e.omitted ? ` and ${e.omitted} more` : ""})`,
        ...(e.topic ? [`* topic: ${e.topic}`] : []),
      ].join("\r\n");
    case "rooms": {
      const total = e.rooms.length + (e.omitted ?? 0);
      return [
        `* ${total} room${total === 1 ? "" : "s"} (> active, + joined):`,
        ...e.rooms.map((r) =>
          `${r.active ? ">" : r.joined ? "+" : " "} ${r.name} (${r.members})${
            r.topic ? ` ${r.topic}` : ""
          }`
        ),
        ...(e.omitted ? [`  ... and ${e.omitted} more`] : []),
      ].join("\r\n");
    }
    case "topic":
      if (e.changed) {
        return e.topic === undefined
          ? `* ${e.by} removed the topic of ${e.room}`
          : `* ${e.by} set the topic of ${e.room}: ${e.topic}`;
      }
      return e.topic
        ? `* topic of ${e.room}: ${e.topic} (set by ${e.by})`
        : `* ${e.room} has no topic`;
    case "whois":
      return `* ${e.name}: in ${e.rooms.join(", ") || "no room"}, here since ${
        clock(e.since)
      }, idle ${e.idleSeconds} s` +
        (e.address !== undefined ? `, from ${e.address}` : "") +
        (e.away !== undefined ? `, away: ${e.away}` : "");
    case "motd":
      return e.lines.map((l) => `- ${l}`).join("\r\n");
    case "help":
      return e.lines.join("\r\n");
    case "system":
      return `* ${e.text}`;
    case "history-end":
      return "* end of history";
    case "ok":
      return "* done";
    case "error":
      return `! ${e.text}`;
    case "mode":
      return `* output mode is now ${e.mode}`;
    case "bye":
      return `* ${e.reason}`;
  }
}

/** The screen width text mode lays out for: a telnet or nc terminal's usual 80 columns. */
export const TEXT_COLUMNS = 80;
/** Where a wrapped line continues in text mode: deeper than any line of the server's starts. */
const TEXT_INDENT = 4;
/** Events that can carry text someone else typed (a system notice: "bob is away: ..."). */
const USER_TEXT: ReadonlySet<EventType> = new Set<EventType>([
  "message",
  "action",
  "private",
  "group",
  "sent",
  "announce",
  "leave",
  "quit",
  "room",
  "rooms",
  "topic",
  "whois",
  "motd",
  "system",
  "bye",
]);
/** Whitespace that could pad or align: a tab, any space but one plain one, the braille blank. */
const ODD_SPACE = /[^\S ]| {2}|\u2800/;
/** A run of whitespace after the start of a line (a leading indent is the server's). */
const SPACE_RUN = /(?<=\S)[\s\u2800]+/g;

/** Events that name the room they happen in on a screen whose active room is another. */
const MARKED: ReadonlySet<EventType> = new Set<EventType>([
  "message",
  "action",
  "join",
  "leave",
  "topic",
]);

/**
 * The room a text screen names in front of this event (`[#dev] alice: hi`) when the viewer's
 * active room is another one; undefined for events that are not a room's.
 */
export function markedRoom(e: ServerEvent): string | undefined {
  return MARKED.has(e.type) ? (e as { room: string }).room : undefined;
}

/**
 * Renders an event for a person's telnet or nc screen: {@link renderText}, after `[ROOM] `
 * when it is `marked` (a line from a room that is not the viewer's active one), and in
 * events with someone's text, each run of whitespace collapsed to one space and each line
 * longer than {@link TEXT_COLUMNS} wrapped onto rows indented by four spaces. No padding,
 * tab, wide character or long word can then start a row at column 0 on a terminal at least
 * 80 columns wide: every row starts with the server's own prefix or with the indent.
 */
export function renderScreen(e: ServerEvent, marked = false): string {
  const room = marked ? markedRoom(e) : undefined;
  const text = room === undefined ? renderText(e) : `[${room}] ${renderText(e)}`;
  if (!USER_TEXT.has(e.type) && room === undefined) return text;
  return text.split("\r\n").flatMap((line) =>
    wrapLine(
      [{ text: ODD_SPACE.test(line) ? line.replace(SPACE_RUN, " ") : line }],
      TEXT_COLUMNS,
      TEXT_INDENT,
    ).map(plainText)
  ).join("\r\n");
}

/** Renders an event as one JSON object (no newline). */
export function renderJson(e: Reply): string {
  return JSON.stringify(e);
}

const encoder = new TextEncoder();

/** An event, with the `id` of the JSON request it answers when there is one. */
export type Reply = ServerEvent & { id?: RequestId };

/**
 * An event on its way out: rendered and encoded at most once per output mode, however
 * many recipients share it.
 */
export class Outgoing {
  #text?: Uint8Array;
  #marked?: Uint8Array;
  #json?: Uint8Array;
  /** The room a text screen names when it is not the viewer's active one (see markedRoom). */
  readonly room: string | undefined;

  constructor(readonly event: Reply) {
    this.room = markedRoom(event);
  }

  /**
   * The bytes of this event in `mode`, with the CRLF line ending; in text, `marked` with its
   * room for a viewer whose active room is another.
   */
  bytes(mode: OutputMode, marked = false): Uint8Array {
    if (mode === "json") return this.#json ??= encoder.encode(renderJson(this.event) + "\r\n");
    if (marked && this.room !== undefined) {
      return this.#marked ??= encoder.encode(renderScreen(this.event, true) + "\r\n");
    }
    return this.#text ??= encoder.encode(renderScreen(this.event) + "\r\n");
  }
}

/**
 * The most bytes `text` can take once sent: its UTF-8 size with JSON's escaping (a `"`, `\`
 * or tab takes two bytes, another control six; a lone surrogate, sent as U+FFFD, three). What the
 * limits compare, since that is what reaches a client, however the text came in.
 *
 * @example
 * ```ts
 * encodedBytes('say "hi"'); // 10
 * encodedBytes("\uFFFD");   // 3
 * ```
 */
export function encodedBytes(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20) bytes += c === 0x09 ? 2 : 6;
    else if (c < 0x80) bytes += c === 0x22 || c === 0x5c ? 2 : 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}
