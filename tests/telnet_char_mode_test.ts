// Unit tests of telnet character mode over plain bytes: keys in, lines and drawing out.

import assert from "node:assert/strict";
import { CharMode, HISTORY_BYTES } from "../lib/server/telnet/char_mode.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function mode(names: string[] = [], maxLineBytes = 4096) {
  const lines: string[] = [];
  const drawn: string[] = [];
  const m = new CharMode({ cols: 80, maxLineBytes, names: () => names }, {
    line: (t) => lines.push(t),
    draw: (b) => drawn.push(dec.decode(b)),
  });
  return { m, lines, drawn, type: (s: string) => m.feed(enc.encode(s)) };
}

Deno.test("CharMode edits a line with the client's keys; Enter (CR NUL, CR LF) sends it", async (t) => {
  const cases: [string, string, string[]][] = [
    ["plain, CR NUL", "hello\r\0", ["hello"]],
    ["CR LF is one Enter", "a\r\nb\r\n", ["a", "b"]],
    ["Backspace (DEL and ^H)", "helo\x7f\x7flo\x08p\r", ["help"]],
    ["Ctrl+U", "junk\x15ok\r", ["ok"]],
    ["Ctrl+W", "one two\x17three\r", ["one three"]],
    ["arrows and Home/End", "bc\x1b[Da\x1b[H>\x1b[F!\r", [">bac!"]],
    ["Ctrl+A and Ctrl+E", "b\x01a\x05c\r", ["abc"]],
    ["Ctrl+C clears, never leaves", "\x03x\x03y\r", ["y"]],
    ["UTF-8 split across chunks", "\xe6\x9c\xac\r", ["本"]],
  ];
  for (const [name, input, lines] of cases) {
    await t.step(name, () => {
      const whole = mode();
      whole.m.feed(Uint8Array.from(input, (c) => c.charCodeAt(0)));
      assert.deepEqual(whole.lines, lines);
      const bytes = mode();
      for (const c of input) bytes.m.feed(Uint8Array.of(c.charCodeAt(0)));
      assert.deepEqual(bytes.lines, lines, "one byte at a time");
    });
  }
});

Deno.test("CharMode history: Up recalls, and it starts again past HISTORY_BYTES", () => {
  const { m, type, lines } = mode();
  type("first\rsecond\r\x1b[A\x1b[A\r");
  assert.deepEqual(lines, ["first", "second", "first"]);
  const long = "x".repeat(1000);
  for (let i = 0; i * 1000 <= HISTORY_BYTES; i++) type(`${long}\r`);
  // 33 lines of 1000 bytes passed the budget at the last one: the history started again.
  type("\x1b[A");
  assert.equal(m.inputRow, "", "nothing to recall");
  type("last\r\x1b[A\x1b[A\x1b[A");
  assert.equal(m.inputRow, "last", "only what came after");
});

Deno.test("CharMode completes commands and names with Tab", () => {
  const { m, type } = mode(["carol", "bob"]);
  type("/us\t");
  assert.equal(m.inputRow, "/users ");
  type("\x15hi ca\t");
  assert.equal(m.inputRow, "hi carol ");
});

Deno.test("CharMode hides a password: stars, not kept in history, then back to plain", () => {
  const { m, type, lines, drawn } = mode();
  m.hideNextLine();
  type("s3cret");
  assert.equal(m.inputRow, "******");
  type("\r");
  assert.deepEqual(lines, ["s3cret"]);
  assert.ok(!drawn.join("").includes("s3cret"), "the password is never drawn");
  type("\x1b[A");
  assert.equal(m.inputRow, "", "not in history");
  type("seen");
  assert.equal(m.inputRow, "seen");
});

Deno.test("CharMode.above() prints lines above the input row and redraws it", () => {
  const { m, type } = mode();
  type("half");
  const out = dec.decode(m.above(enc.encode("bob: hi\r\n")));
  const clear = out.indexOf("\r\x1b[2K");
  assert.ok(clear >= 0 && clear < out.indexOf("bob: hi\r\n"), JSON.stringify(out));
  assert.ok(out.lastIndexOf("half") > out.indexOf("bob: hi"), JSON.stringify(out));
});

Deno.test("CharMode bounds: the line, a never-ending escape, and one redraw per chunk", () => {
  const { m, type, lines, drawn } = mode([], 10);
  type("0123456789");
  type("X");
  assert.equal(m.inputRow, "0123456789");
  assert.ok(drawn.at(-1)!.includes("\x07"), "a bell past the limit");
  type("\x1b[" + "1;".repeat(1000));
  type("\x15ok\r");
  assert.deepEqual(lines, ["ok"], "the decoder started again");
  drawn.length = 0;
  type("a\x02".repeat(5));
  assert.equal(drawn.length, 1, "ten keys, one redraw");
});

Deno.test("CharMode.setPrompt() shows the active room before the line; Ctrl+X asks for the next", () => {
  let asked = 0;
  const lines: string[] = [];
  const m = new CharMode({ cols: 80, maxLineBytes: 4096, names: () => [] }, {
    line: (t) => lines.push(t),
    draw() {},
    nextRoom: () => asked++,
  });
  m.setPrompt("#dev> ");
  m.feed(enc.encode("hi"));
  assert.equal(m.inputRow, "#dev> hi");
  m.feed(Uint8Array.of(0x18));
  assert.equal(asked, 1);
  assert.equal(m.inputRow, "#dev> hi", "the line typed stays");
  m.hideNextLine();
  m.feed(Uint8Array.of(0x18));
  assert.equal(asked, 1, "not at a password");
  m.feed(enc.encode("secret\r"));
  assert.equal(m.inputRow, "#dev> ", "the prompt is back after the password");
  assert.deepEqual(lines, ["hisecret"]);
});
