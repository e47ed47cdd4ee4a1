// Server -> client events: one typed union, rendered at the edge as a text line for
// telnet/nc or as one JSON object per line for programs. User text in an event is
// already sanitized by the hub; rendering only formats.

/** Every event a server sends. `ts` is milliseconds since the Unix epoch. */
export type ServerEvent =
  /** First line on connect. */
  | { type: "welcome"; ts: number; server: string; version: string; text: string }
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
  /** A message to the room; `history` marks one replayed from before you arrived. */
  | { type: "message"; ts: number; from: string; room: string; text: string; history?: true }
  /** `/me`: `from` does `text`. */
  | { type: "action"; ts: number; from: string; room: string; text: string; history?: true }
  /** A private message to you. */
  | { type: "private"; ts: number; from: string; to: string; text: string }
  /** A group message to you and the others in `to`. */
  | { type: "group"; ts: number; from: string; to: string[]; text: string }
  /** Confirms your private or group message was delivered to `to`. */
  | { type: "sent"; ts: number; kind: "private" | "group"; to: string[]; text: string }
  /** A line from the operator at the server's console. */
  | { type: "announce"; ts: number; from: "server"; text: string }
  /**
   * `name` came into `room`: from outside (`moved` absent) or from another room.
   * `count` is the number online, `members` the number in the room.
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
  /** `name` left `room`: the server (with a reason), or for the room `to`. */
  | {
    type: "leave";
    ts: number;
    name: string;
    room: string;
    count: number;
    members: number;
    reason?: string;
    to?: string;
  }
  /** `from` is now called `to`. */
  | { type: "rename"; ts: number; from: string; to: string }
  /** The names in `room` (`*`: everyone online); `online` counts everyone. */
  | { type: "users"; ts: number; room: string; names: string[]; count: number; online: number }
  /** You are now in `room`, with these members and topic. */
  | { type: "room"; ts: number; room: string; names: string[]; topic?: string }
  /** The rooms, with their member counts and topics. */
  | { type: "rooms"; ts: number; rooms: { name: string; members: number; topic?: string }[] }
  /** The topic of `room`; `changed` when `by` just set it. */
  | { type: "topic"; ts: number; room: string; topic?: string; by?: string; changed: boolean }
  /** About a user: where they are, since when, how idle, whether away. */
  | {
    type: "whois";
    ts: number;
    name: string;
    room: string;
    since: number;
    idleSeconds: number;
    away?: string;
  }
  /** The message of the day. */
  | { type: "motd"; ts: number; lines: string[] }
  /** Help text, one entry per line. */
  | { type: "help"; ts: number; lines: string[] }
  /** A server notice to you (a two-step prompt, an acknowledgement). */
  | { type: "system"; ts: number; text: string }
  /** Your input was refused: `code` is stable for programs, `text` is for people. */
  | { type: "error"; ts: number; code: ErrorCode; text: string }
  /**
   * The connection's output mode changed; `name` is your name, if you have one;
   * `password` when the server still waits for its password (a prompt follows).
   */
  | { type: "mode"; ts: number; mode: OutputMode; name: string | null; password?: true }
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
  | "internal";

/** The type names of events. */
export type EventType = ServerEvent["type"];

/** `HH:MM` in the server's local time, for history lines. */
function clock(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}

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
      return e.to !== undefined
        ? `* ${e.name} went to ${e.to}`
        : `* ${e.name} left${e.reason ? `: ${e.reason}` : ""} (${e.count} online)`;
    case "rename":
      return `* ${e.from} is now ${e.to}`;
    case "users":
      return e.count === e.online
        ? `* ${e.count} online: ${e.names.join(", ")}`
        : `* ${e.count} in ${e.room} (${e.online} online): ${e.names.join(", ")}`;
    case "room":
      return [
        `* you are in ${e.room} (${e.names.length} here: ${e.names.join(", ")})`,
        ...(e.topic ? [`* topic: ${e.topic}`] : []),
      ].join("\r\n");
    case "rooms":
      return [
        `* ${e.rooms.length} room${e.rooms.length === 1 ? "" : "s"}:`,
        ...e.rooms.map((r) => `  ${r.name} (${r.members})${r.topic ? ` ${r.topic}` : ""}`),
      ].join("\r\n");
    case "topic":
      if (e.changed) return `* ${e.by} set the topic of ${e.room}: ${e.topic}`;
      return e.topic
        ? `* topic of ${e.room}: ${e.topic} (set by ${e.by})`
        : `* ${e.room} has no topic`;
    case "whois":
      return `* ${e.name}: in ${e.room}, here since ${clock(e.since)}, idle ${e.idleSeconds} s` +
        (e.away !== undefined ? `, away: ${e.away}` : "");
    case "motd":
      return e.lines.map((l) => `- ${l}`).join("\r\n");
    case "help":
      return e.lines.join("\r\n");
    case "system":
      return `* ${e.text}`;
    case "error":
      return `! ${e.text}`;
    case "mode":
      return `* output mode is now ${e.mode}`;
    case "bye":
      return `* ${e.reason}`;
  }
}

/** Renders an event as one JSON object (no newline). */
export function renderJson(e: ServerEvent): string {
  return JSON.stringify(e);
}

const encoder = new TextEncoder();

/**
 * An event on its way out: rendered and encoded at most once per output mode, however
 * many recipients share it.
 */
export class Outgoing {
  #text?: Uint8Array;
  #json?: Uint8Array;

  constructor(readonly event: ServerEvent) {}

  /** The bytes of this event in `mode`, with the CRLF line ending. */
  bytes(mode: OutputMode): Uint8Array {
    if (mode === "json") return this.#json ??= encoder.encode(renderJson(this.event) + "\r\n");
    return this.#text ??= encoder.encode(renderText(this.event) + "\r\n");
  }
}
