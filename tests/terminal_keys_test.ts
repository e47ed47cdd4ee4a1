// Tests for lib/protocol/terminal/keys.ts: raw terminal input decoded into keys, whole and
// split at every position.

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { type Input, KeyDecoder } from "../lib/protocol/terminal/keys.ts";

const CASES: [string, string, Input[]][] = [
  ["plain text is one text key", "hello", [{ name: "text", text: "hello" }]],
  ["wide and combining characters are text", "你好e\u0301😀", [{
    name: "text",
    text: "你好e\u0301😀",
  }]],
  ["left arrow (CSI)", "\x1b[D", [{ name: "left" }]],
  ["right arrow (CSI)", "\x1b[C", [{ name: "right" }]],
  ["up arrow (CSI)", "\x1b[A", [{ name: "up" }]],
  ["down arrow (CSI)", "\x1b[B", [{ name: "down" }]],
  ["arrows in application mode (SS3)", "\x1bOD\x1bOC\x1bOA\x1bOB", [
    { name: "left" },
    { name: "right" },
    { name: "up" },
    { name: "down" },
  ]],
  ["home: CSI H, SS3 H, CSI 1~, CSI 7~", "\x1b[H\x1bOH\x1b[1~\x1b[7~", [
    { name: "home" },
    { name: "home" },
    { name: "home" },
    { name: "home" },
  ]],
  ["end: CSI F, SS3 F, CSI 4~, CSI 8~", "\x1b[F\x1bOF\x1b[4~\x1b[8~", [
    { name: "end" },
    { name: "end" },
    { name: "end" },
    { name: "end" },
  ]],
  ["Ctrl+A is home, Ctrl+E is end", "\x01\x05", [{ name: "home" }, { name: "end" }]],
  ["Ctrl+B/Ctrl+F move, Ctrl+P/Ctrl+N browse history", "\x02\x06\x10\x0e", [
    { name: "left" },
    { name: "right" },
    { name: "up" },
    { name: "down" },
  ]],
  ["delete key", "\x1b[3~", [{ name: "delete" }]],
  ["backspace as DEL and as Ctrl+H", "\x7f\x08", [{ name: "backspace" }, { name: "backspace" }]],
  ["Ctrl+W and Ctrl+U", "\x17\x15", [{ name: "ctrl-w" }, { name: "ctrl-u" }]],
  ["Tab", "\t", [{ name: "tab" }]],
  ["Enter as CR, as LF, and CR LF once", "\r\n\r\n", [
    { name: "enter" },
    { name: "enter" },
  ]],
  ["Ctrl+C and Ctrl+D", "\x03\x04", [{ name: "ctrl-c" }, { name: "ctrl-d" }]],
  ["Ctrl+X (next room)", "\x18", [{ name: "ctrl-x" }]],
  ["modified arrows count as arrows", "\x1b[1;5C", [{ name: "right" }]],
  ["unknown sequences and controls are dropped", "\x1b[2~\x1b[202~a\x07\x1b[15~", [
    { name: "text", text: "a" },
  ]],
  ["Alt+key drops the ESC and keeps the key", "\x1bb", [{ name: "text", text: "b" }]],
  ["text around keys keeps its order", "ab\x1b[Dc\r", [
    { name: "text", text: "ab" },
    { name: "left" },
    { name: "text", text: "c" },
    { name: "enter" },
  ]],
  ["C1 controls are dropped", "a\u009bb", [{ name: "text", text: "ab" }]],
  [
    "a bracketed paste is text with \\n line ends, never keys",
    "\x1b[200~one\r\ntwo\rthree\tx\x1b[201~\r",
    [
      { name: "paste", text: "one\ntwo\nthree x" },
      { name: "enter" },
    ],
  ],
  ["keys before and after a paste are keys", "\x1b[D\x1b[200~/he\x03\x1b[201~\t", [
    { name: "left" },
    { name: "paste", text: "/he" },
    { name: "tab" },
  ]],
];

/** Merges adjacent text (and paste) keys, since a split can cut one run in two. */
function merged(keys: Input[]): Input[] {
  const out: Input[] = [];
  for (const k of keys) {
    const last = out.at(-1);
    if ((k.name === "text" || k.name === "paste") && last?.name === k.name) {
      out[out.length - 1] = { name: k.name, text: last.text + k.text };
    } else {
      out.push(k);
    }
  }
  return out;
}

Deno.test("KeyDecoder.feed() decodes each key", async (t) => {
  for (const [name, input, want] of CASES) {
    await t.step(name, () => assertEquals(new KeyDecoder().feed(input), want));
  }
});

Deno.test("KeyDecoder.feed() gives the same keys when input is split anywhere", async (t) => {
  for (const [name, input, want] of CASES) {
    await t.step(name, () => {
      const units = [...input];
      for (let i = 0; i <= units.length; i++) {
        const d = new KeyDecoder();
        const keys = [...d.feed(units.slice(0, i).join("")), ...d.feed(units.slice(i).join(""))];
        assertEquals(merged(keys), want, `split at ${i}`);
      }
    });
  }
});
