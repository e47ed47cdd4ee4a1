// Breaks a styled line into rows no wider than the terminal, at spaces where it can and
// inside a word where it must, each continuation row indented: so text someone typed
// never starts a row at column 0, whatever its padding, tabs, wide characters or long
// words. Pure; column math is width.ts's, drawing is screen.ts's.

import type { Line, Span, Style } from "./ansi.ts";
import { graphemes, maxColumns } from "./width.ts";

/** Whether `text` surely fits in `cols` columns as it is: no tab, and short enough. */
function fits(text: string, cols: number): boolean {
  if (text.includes("\t")) return false;
  return text.length * 2 <= cols || (text.length <= cols && /^[\x20-\x7e]*$/.test(text));
}

/** One grapheme cluster of a line, with the style of its span. */
interface Cell {
  text: string;
  style: Style | undefined;
  cols: number;
}

/**
 * Takes the last word off a full row to start the next one, when the row has a space
 * to break at and the word is short (at most `room` columns, and half the row); a long
 * word (a link, a run of padding) breaks where the row is full instead.
 */
function carry(row: Cell[], cols: number, room: number): Cell[] {
  const space = row.findLastIndex((c) => c.text === " ");
  if (space <= 0) return [];
  const word = row.slice(space + 1);
  if (word.reduce((sum, c) => sum + c.cols, 0) > Math.min(room, cols / 2)) return [];
  row.length = space;
  return word;
}

/**
 * Lays `line` out in rows of at most `cols` columns (by {@link maxColumns}); every row
 * after the first starts with `indent` spaces. Tabs become spaces. A line that fits is
 * returned as it is.
 *
 * @example
 * ```ts
 * wrapLine([{ text: "12:00 <bob> a long message" }], 20, 6);
 * // [[{ text: "12:00 <bob> a long" }], [{ text: "      " }, { text: "message" }]]
 * ```
 */
export function wrapLine(line: Line, cols: number, indent: number): Line[] {
  if (fits(line.map((s) => s.text).join(""), cols)) return [line];
  const pad = Math.min(indent, Math.max(cols - 2, 0));
  const rows: Cell[][] = [];
  let row: Cell[] = [];
  let used = 0;
  for (const span of line) {
    for (const g of graphemes(span.text.replaceAll("\t", " "))) {
      const cell = { text: g, style: span.style, cols: maxColumns(g) };
      if (used + cell.cols > cols && row.length > 0) {
        const next = cell.text === " " ? [] : carry(row, cols, cols - pad - cell.cols);
        while (row.at(-1)?.text === " ") row.pop();
        rows.push(row);
        row = next;
        used = pad + row.reduce((sum, c) => sum + c.cols, 0);
      }
      if (cell.text === " " && row.length === 0 && rows.length > 0) continue;
      row.push(cell);
      used += cell.cols;
    }
  }
  rows.push(row);
  return rows.map((cells, i) => {
    const spans: Span[] = i > 0 && pad > 0 ? [{ text: " ".repeat(pad) }] : [];
    let last: Span | undefined;
    for (const c of cells) {
      if (last && last.style === c.style) last.text += c.text;
      else spans.push(last = { text: c.text, style: c.style });
    }
    return spans;
  });
}
