// Tests for lib/protocol/ansi.ts: screen operations and styles encoded as escape
// sequences, and styled lines as plain text.

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { encodeOps, plainText, type ScreenOp, sgr } from "../lib/protocol/ansi.ts";

const HIDE = "\x1b[?25l";
const SHOW = "\x1b[?25h";

Deno.test("encodeOps() encodes each operation", async (t) => {
  const cases: [string, ScreenOp[], boolean, string][] = [
    ["clear goes to column 0 and erases the row", [{ op: "clear" }], true, "\r\x1b[2K"],
    [
      "clearBelow goes up, to column 0, and erases to the end of the screen",
      [{ op: "clearBelow", up: 2 }],
      true,
      "\x1b[2A\r\x1b[J",
    ],
    ["clearBelow on the cursor's row", [{ op: "clearBelow", up: 0 }], true, "\r\x1b[J"],
    ["newline is CR LF (raw mode has no output processing)", [{ op: "newline" }], true, "\r\n"],
    ["column 0 is a carriage return", [{ op: "column", col: 0 }], true, "\r"],
    ["column n moves right from column 0", [{ op: "column", col: 7 }], true, "\r\x1b[7C"],
    ["bell", [{ op: "bell" }], true, "\x07"],
    ["plain text as is", [{ op: "write", text: "hi" }], true, "hi"],
    [
      "styled text is wrapped in SGR and a reset",
      [{
        op: "write",
        text: "hi",
        style: { bold: true, fg: 31 },
      }],
      true,
      "\x1b[1;31mhi\x1b[0m",
    ],
    [
      "without colour styles are dropped",
      [{
        op: "write",
        text: "hi",
        style: { bold: true, fg: 31 },
      }],
      false,
      "hi",
    ],
  ];
  for (const [name, ops, color, want] of cases) {
    await t.step(name, () => assertEquals(encodeOps(ops, color), HIDE + want + SHOW));
  }
});

Deno.test("sgr() turns each attribute on", async (t) => {
  const cases: [string, Parameters<typeof sgr>[0], string][] = [
    ["no style", undefined, ""],
    ["empty style", {}, ""],
    ["bold", { bold: true }, "\x1b[1m"],
    ["dim", { dim: true }, "\x1b[2m"],
    ["reverse", { reverse: true }, "\x1b[7m"],
    ["colour", { fg: 94 }, "\x1b[94m"],
    ["all together", { bold: true, dim: true, reverse: true, fg: 35 }, "\x1b[1;2;7;35m"],
  ];
  for (const [name, style, want] of cases) await t.step(name, () => assertEquals(sgr(style), want));
});

Deno.test("plainText() joins the spans without styles", () => {
  assertEquals(plainText([{ text: "a", style: { bold: true } }, { text: "b" }]), "ab");
});
