import assert from "node:assert/strict";
import {
  IRC_LINE_BYTES,
  ircLine,
  splitBytes,
  timeTag,
  utf8Bytes,
} from "../lib/server/irc/render.ts";

Deno.test("ircLine() writes a source, a command and parameters with CRLF", async (t) => {
  const cases: [Parameters<typeof ircLine>, string][] = [
    [["srv", "001", ["alice", "Welcome alice"]], ":srv 001 alice :Welcome alice\r\n"],
    [["a!a@h", "JOIN", ["#dev"], undefined, false], ":a!a@h JOIN #dev\r\n"],
    [["a!a@h", "PART", ["#dev"]], ":a!a@h PART :#dev\r\n"],
    [["a!a@h", "PRIVMSG", ["#dev", ""]], ":a!a@h PRIVMSG #dev :\r\n"],
    [["a!a@h", "PRIVMSG", ["#dev", ":)"]], ":a!a@h PRIVMSG #dev ::)\r\n"],
    [[undefined, "ERROR", ["Closing link: bye"]], "ERROR :Closing link: bye\r\n"],
    [["s", "PONG", ["s", "x"], "time=t"], "@time=t :s PONG s :x\r\n"],
  ];
  for (const [args, want] of cases) {
    await t.step(JSON.stringify(args), () => assert.equal(ircLine(...args), want));
  }
});

Deno.test("ircLine() never lets CR, LF or NUL in a parameter split the line", async (t) => {
  const hostile = ["a\r\nQUIT :x", "a\nJOIN #x", "a\rb", "a\0b", "\r\n"];
  for (const text of hostile) {
    await t.step(JSON.stringify(text), () => {
      for (
        const line of [
          ircLine("s", "PRIVMSG", ["#c", text]),
          ircLine("s", "332", ["me", text, "x"]),
        ]
      ) {
        assert.equal(line.indexOf("\r\n"), line.length - 2);
        assert.ok(!/[\r\n\0]/.test(line.slice(0, -2)), JSON.stringify(line));
      }
    });
  }
});

Deno.test("ircLine() cuts a line to 512 bytes with its CRLF, at a character boundary", () => {
  for (const ch of ["x", "é", "本", "😀"]) {
    const line = ircLine("src", "PRIVMSG", ["#c", ch.repeat(600)]);
    assert.ok(utf8Bytes(line) <= IRC_LINE_BYTES + 2, `${ch}: ${utf8Bytes(line)}`);
    assert.ok(line.endsWith(`${ch}\r\n`));
  }
});

Deno.test("splitBytes() cuts text into pieces that fit, losing nothing but break spaces", async (t) => {
  const cases: [string, number, string[]][] = [
    ["hello world", 8, ["hello", "world"]],
    ["hello", 8, ["hello"]],
    ["abcdefghij", 4, ["abcd", "efgh", "ij"]],
    ["本本本", 4, ["本", "本", "本"]],
    ["😀😀", 4, ["😀", "😀"]],
    ["", 4, []],
  ];
  for (const [text, max, want] of cases) {
    await t.step(`${JSON.stringify(text)} in ${max}`, () => {
      const pieces = splitBytes(text, max);
      assert.deepEqual(pieces, want);
      for (const p of pieces) assert.ok(utf8Bytes(p) <= max);
    });
  }
});

Deno.test("timeTag() is the IRCv3 server-time tag in UTC with milliseconds", () => {
  assert.equal(timeTag(Date.UTC(2026, 0, 2, 3, 4, 5, 6)), "time=2026-01-02T03:04:05.006Z");
});
