// Room state the engine shares besides events: topics and the message of the day, as they
// travel and are kept, and how they are read back (anything else in Redis is skipped, never
// trusted). Keeping them is each engine's; showing them, the hub's.

/** A room's topic as set on some node: `text` absent when it was removed. */
export interface TopicChange {
  /** The room's name as typed. */
  room: string;
  text?: string;
  by: string;
  ts: number;
  node: string;
}

/** The message of the day as set on some node. */
export interface MotdChange {
  lines: string[];
  by: string;
  ts: number;
  node: string;
}

/**
 * The longest topic or motd read back from the engine (characters of JSON: a topic of the
 * longest `--max-line`, escaped); a longer one is skipped unparsed.
 */
export const MAX_SHARED_CHARS = 4 * 1024 * 1024;

/** The most lines a motd read back from the engine may have; more is skipped. */
export const MAX_MOTD_LINES = 1000;

/** A topic change read back from the engine, or undefined when it is not one of ours. */
export function parseTopic(text: string): TopicChange | undefined {
  if (text.length > MAX_SHARED_CHARS) return undefined;
  try {
    const e = JSON.parse(text);
    if (
      typeof e === "object" && e !== null && typeof e.room === "string" &&
      (e.text === undefined || typeof e.text === "string") && typeof e.by === "string" &&
      typeof e.ts === "number" && typeof e.node === "string"
    ) {
      return {
        room: e.room,
        ...(e.text === undefined ? {} : { text: e.text }),
        by: e.by,
        ts: e.ts,
        node: e.node,
      };
    }
  } catch {
    // Not JSON.
  }
  return undefined;
}

/** A motd read back from the engine, or undefined when it is not one of ours. */
export function parseMotd(text: string): MotdChange | undefined {
  if (text.length > MAX_SHARED_CHARS) return undefined;
  try {
    const e = JSON.parse(text);
    if (
      typeof e === "object" && e !== null && Array.isArray(e.lines) &&
      e.lines.length <= MAX_MOTD_LINES && e.lines.every((l: unknown) => typeof l === "string") &&
      typeof e.by === "string" && typeof e.ts === "number" && typeof e.node === "string"
    ) return { lines: e.lines, by: e.by, ts: e.ts, node: e.node };
  } catch {
    // Not JSON.
  }
  return undefined;
}
