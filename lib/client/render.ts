// How the chat client shows events: a timestamp, a stable colour per name, distinct
// looks for own, private and group messages, notices and errors, and a mention
// highlight. Pure: events in, styled lines out; escape codes are left to protocol/ansi.ts.

import { renderText, type ServerEvent } from "../protocol/events.ts";
import type { Line, Span, Style } from "../protocol/ansi.ts";
import { clock, mentions, nameColour } from "../protocol/looks.ts";

/** The looks of each kind of line. */
export const STYLES = {
  time: { dim: true },
  own: { dim: true },
  ownName: { bold: true },
  private: { fg: 35, bold: true },
  group: { fg: 36, bold: true },
  announce: { fg: 33, bold: true },
  notice: { dim: true },
  error: { fg: 31, bold: true },
  mention: { reverse: true, bold: true },
  mark: { bold: true },
} as const satisfies Record<string, Style>;

function name(n: string): Span {
  return { text: n, style: { fg: nameColour(n), bold: true } };
}

/** Who is looking: your name decides what is yours and what mentions you. */
export interface Viewer {
  me: string | undefined;
}

/**
 * Renders an event as styled lines. A `message` from `viewer.me` is your own (the
 * server never echoes it; the client shows it locally). `mark` is the room the line comes
 * from when that is not the active one: `[#dev] ` after the time.
 *
 * @example
 * ```ts
 * const [line] = renderEvent({ type: "message", ts: 0, from: "bob", room: "#dev", text: "hi alice" }, { me: "alice" }, "#dev");
 * // spans: "00:00 ", "[#dev] ", "<", "bob", "> ", "hi alice" (highlighted: it mentions alice)
 * ```
 */
export function renderEvent(e: ServerEvent, viewer: Viewer, mark?: string): Line[] {
  const lines = eventLines(e, viewer);
  if (mark === undefined) return lines;
  const [[time, ...rest], ...more] = lines;
  return [[time, { text: `[${mark}] `, style: STYLES.mark }, ...rest], ...more];
}

function eventLines(e: ServerEvent, viewer: Viewer): Line[] {
  const time: Span = { text: `${clock(e.ts)} `, style: STYLES.time };
  const body = (text: string, from: string): Span => ({
    text,
    style: from !== viewer.me && mentions(text, viewer.me) ? STYLES.mention : undefined,
  });
  // Replayed history is marked, and it is never "new" enough to highlight.
  const marked = (spans: Span[]): Line[] =>
    "history" in e && e.history
      ? [[time, { text: "[history] ", style: STYLES.notice }, ...spans]]
      : [[time, ...spans]];
  switch (e.type) {
    case "message":
      if (e.from === viewer.me) {
        return marked([
          { text: "<", style: STYLES.own },
          { text: e.from, style: STYLES.ownName },
          { text: "> " + e.text, style: STYLES.own },
        ]);
      }
      return marked([{ text: "<" }, name(e.from), { text: "> " }, body(e.text, e.from)]);
    case "action":
      if (e.from === viewer.me) {
        return marked([{ text: `* ${e.from} ${e.text}`, style: STYLES.own }]);
      }
      return marked([{ text: "* " }, name(e.from), { text: " " }, body(e.text, e.from)]);
    case "private":
      return [[time, { text: "[pm from ", style: STYLES.private }, name(e.from), {
        text: "] ",
        style: STYLES.private,
      }, body(e.text, e.from)]];
    case "group":
      return [[
        time,
        { text: "[group from ", style: STYLES.group },
        name(e.from),
        { text: ` to ${e.to.join(", ")}] `, style: STYLES.group },
        body(e.text, e.from),
      ]];
    case "sent": {
      const style = e.kind === "private" ? STYLES.private : STYLES.group;
      const tag = e.kind === "private" ? "pm" : "group";
      return [[time, { text: `[${tag} to ${e.to.join(", ")}] `, style }, {
        text: e.text,
        style: STYLES.own,
      }]];
    }
    case "announce":
      return [[time, { text: "[server] ", style: STYLES.announce }, {
        text: e.text,
        style: mentions(e.text, viewer.me) ? STYLES.mention : STYLES.announce,
      }]];
    case "error":
      return [[time, { text: `! ${e.text}`, style: STYLES.error }]];
    case "welcome":
    case "prompt":
      return [[time, { text: `* ${e.text}`, style: STYLES.notice }]];
    default:
      // Some events are several lines (help, a room and its topic, the room list).
      return renderText(e).split("\r\n").map((text, i) => [
        i === 0 ? time : { text: " ".repeat(time.text.length) },
        { text, style: STYLES.notice },
      ]);
  }
}
