// Column math for terminal text: grapheme clusters (Intl.Segmenter) and their widths
// (the string-width library, which knows East Asian wide characters, emoji and
// combining marks). Pure; layout decisions are left to screen.ts.

import stringWidth from "string-width";

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** Splits text into grapheme clusters: what a person sees as one character. */
export function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/** Columns `text` takes on a terminal (0 for combining marks, 2 for wide characters). */
export function columns(text: string): number {
  return stringWidth(text);
}

/**
 * The most columns a grapheme cluster can take on a terminal: ambiguous-width characters
 * counted wide, and an emoji sequence counted as its parts, as a terminal that does not
 * join them draws it. Laying out by this, a row never overflows into the next.
 */
export function maxColumns(grapheme: string): number {
  let parts = 0;
  for (const c of grapheme) parts += stringWidth(c, { ambiguousIsNarrow: false });
  return Math.max(parts, stringWidth(grapheme, { ambiguousIsNarrow: false }));
}
