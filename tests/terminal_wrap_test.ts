import assert from "node:assert/strict";
import { type Line, plainText } from "../lib/protocol/ansi.ts";
import { CONTINUATION_INDENT, Screen } from "../lib/protocol/terminal/screen.ts";
import { graphemes, maxColumns } from "../lib/protocol/width.ts";
import { wrapLine } from "../lib/protocol/wrap.ts";

const FAMILY = "👨\u200d👩\u200d👧";

/** Columns of a row by the wrapper's own, cautious, measure. */
function width(row: string): number {
  return graphemes(row).reduce((sum, g) => sum + maxColumns(g), 0);
}

Deno.test("wrapLine() lays a line out in rows with indented continuations", async (t) => {
  const cases: { name: string; text: string; cols: number; want: string[] }[] = [
    { name: "a line that fits is unchanged", text: "alice: hi", cols: 20, want: ["alice: hi"] },
    {
      name: "breaks at the last space",
      text: "alice: one two three four",
      cols: 16,
      want: ["alice: one two", "  three four"],
    },
    {
      name: "a long word breaks where the row is full",
      text: "alice: " + "x".repeat(20),
      cols: 16,
      want: ["alice: xxxxxxxxx", "  xxxxxxxxxxx"],
    },
    {
      name: "padding spaces vanish at the break",
      text: "a" + " ".repeat(40) + "[server] hi",
      cols: 16,
      want: ["a", "  [server] hi"],
    },
    { name: "tabs become spaces", text: "ab\t\tcd", cols: 4, want: ["ab", "  cd"] },
    {
      name: "wide characters never overflow",
      text: "ab" + "本".repeat(8),
      cols: 9,
      want: ["ab本本本", "  本本本", "  本本"],
    },
    {
      name: "an emoji sequence counts as its parts",
      text: `ab ${FAMILY}${FAMILY}`,
      cols: 10,
      want: [`ab ${FAMILY}`, `  ${FAMILY}`],
    },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const rows = wrapLine([{ text: c.text }], c.cols, 2).map(plainText);
      assert.deepEqual(rows, c.want);
      for (const row of rows) assert.ok(width(row) <= c.cols, row);
    });
  }
});

Deno.test("wrapLine() keeps each piece of text in its style", () => {
  const bold = { bold: true };
  const rows = wrapLine([{ text: "<bob>", style: bold }, { text: " hello there" }], 12, 2);
  assert.deepEqual(rows, [
    [{ text: "<bob>", style: bold }, { text: " hello", style: undefined }],
    [{ text: "  " }, { text: "there", style: undefined }],
  ]);
});

Deno.test("Screen.print() never starts a wrapped tail at column 0, whatever the width", async (t) => {
  const fake = "12:00 [server] type /pass hunter2";
  for (const cols of [20, 41, 80, 97, 132]) {
    await t.step(`${cols} columns`, () => {
      const screen = new Screen({ cols });
      const lines: Line[] = ["", " ", "\t", "x", "本", "\u3000"].map((pad) => [
        { text: "12:00 " },
        { text: "<mallory>", style: { bold: true } },
        { text: ` hi${pad.repeat(cols)}${fake}` },
      ]);
      const rows: string[] = [];
      let row = "";
      for (const op of screen.print(lines)) {
        if (op.op === "write") row += op.text;
        if (op.op === "newline") rows.push(row), row = "";
      }
      for (const r of rows) {
        assert.ok(width(r) <= cols, `${JSON.stringify(r)} is wider than ${cols}`);
        assert.ok(
          r.startsWith("12:00 <mallory>") || r.startsWith(" ".repeat(CONTINUATION_INDENT)),
          JSON.stringify(r),
        );
      }
    });
  }
});
