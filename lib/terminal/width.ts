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
