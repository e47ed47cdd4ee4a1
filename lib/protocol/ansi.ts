// Styled text and screen operations as data, and their encoding as ANSI escape
// sequences (or as plain text). Pure; writing the bytes is left to tty.ts and the
// plain-mode output.

/** How a span of text looks. `fg` is an SGR foreground code (31-37, 90-97). */
export interface Style {
  fg?: number;
  bold?: boolean;
  dim?: boolean;
  /** Swapped foreground and background: the mention highlight. */
  reverse?: boolean;
}

/** A run of text in one style. */
export interface Span {
  text: string;
  style?: Style;
}

/** One printed line, as styled spans. */
export type Line = readonly Span[];

/** What the screen asks the terminal to do; encoded by {@link encodeOps}. */
export type ScreenOp =
  /** Go to column 0 and erase the cursor's row. */
  | { op: "clear" }
  /** Go up `up` rows to column 0 and erase from there to the end of the screen. */
  | { op: "clearBelow"; up: number }
  /** Write text at the cursor. */
  | { op: "write"; text: string; style?: Style }
  /** Move to column 0 of the next row (scrolling at the bottom). */
  | { op: "newline" }
  /** Move the cursor to a column of its row, 0-based. */
  | { op: "column"; col: number }
  /** Ring the bell. */
  | { op: "bell" };

const CSI = "\x1b[";

/** The SGR sequence that turns `style` on, or "" when it is plain. */
export function sgr(style: Style | undefined): string {
  if (!style) return "";
  const codes: number[] = [];
  if (style.bold) codes.push(1);
  if (style.dim) codes.push(2);
  if (style.reverse) codes.push(7);
  if (style.fg !== undefined) codes.push(style.fg);
  return codes.length === 0 ? "" : `${CSI}${codes.join(";")}m`;
}

/**
 * Encodes operations for a terminal in raw mode (CR LF line ends), hiding the cursor
 * while drawing. Without `color`, styles are dropped but the cursor moves remain.
 */
export function encodeOps(ops: readonly ScreenOp[], color: boolean): string {
  let out = `${CSI}?25l`;
  for (const o of ops) {
    switch (o.op) {
      case "clear":
        out += `\r${CSI}2K`;
        break;
      case "clearBelow":
        out += `${o.up > 0 ? `${CSI}${o.up}A` : ""}\r${CSI}J`;
        break;
      case "write": {
        const on = color ? sgr(o.style) : "";
        out += on === "" ? o.text : `${on}${o.text}${CSI}0m`;
        break;
      }
      case "newline":
        out += "\r\n";
        break;
      case "column":
        out += `\r${o.col > 0 ? `${CSI}${o.col}C` : ""}`;
        break;
      case "bell":
        out += "\x07";
        break;
    }
  }
  return out + `${CSI}?25h`;
}

/** A line's text without any styling: what plain mode prints. */
export function plainText(line: Line): string {
  return line.map((s) => s.text).join("");
}

/** The sequence that leaves a terminal as it was: attributes reset, cursor shown. */
export const RESET = `${CSI}0m${CSI}?25h`;
