import assert from "node:assert/strict";
import { LineFramer } from "../lib/protocol/framing.ts";

const enc = new TextEncoder();

type Out = string | { overlong: true };

/** Feeds `chunks` to a fresh framer and returns what it reported. */
function frame(chunks: Uint8Array[], max = 64): { out: Out[]; maxBuffered: number } {
  const out: Out[] = [];
  let maxBuffered = 0;
  const f = new LineFramer(max, {
    line: (l) => out.push(l),
    overlong: () => out.push({ overlong: true }),
  });
  for (const c of chunks) {
    f.push(c);
    maxBuffered = Math.max(maxBuffered, f.buffered);
  }
  return { out, maxBuffered };
}

/** Every way of cutting `bytes` in two, plus one byte at a time. */
function splits(bytes: Uint8Array): Uint8Array[][] {
  const all: Uint8Array[][] = [[bytes]];
  for (let i = 1; i < bytes.length; i++) all.push([bytes.subarray(0, i), bytes.subarray(i)]);
  all.push([...bytes].map((b) => Uint8Array.of(b)));
  return all;
}

const bytes = (...parts: (string | number[])[]) =>
  Uint8Array.from(parts.flatMap((p) => typeof p === "string" ? [...enc.encode(p)] : p));

const CASES: { name: string; input: Uint8Array; want: Out[]; max?: number }[] = [
  { name: "LF ends a line", input: bytes("a\nb\n"), want: ["a", "b"] },
  { name: "CRLF ends a line", input: bytes("hello\r\nworld\r\n"), want: ["hello", "world"] },
  { name: "CR NUL ends a line", input: bytes("a\r", [0], "b\r", [0]), want: ["a", "b"] },
  { name: "a bare CR ends a line", input: bytes("a\rb\n"), want: ["a", "b"] },
  { name: "empty lines are reported", input: bytes("\r\n\n"), want: ["", ""] },
  { name: "no line without an ending", input: bytes("partial"), want: [] },
  {
    name: "IAC WILL/DO negotiation is removed",
    input: bytes([0xff, 0xfb, 0x01], "al", [0xff, 0xfd, 0x03], "ice\r\n"),
    want: ["alice"],
  },
  {
    name: "IAC SB ... IAC SE subnegotiation is removed",
    input: bytes("x", [0xff, 0xfa, 0x18, 0x00, 0x41, 0x4e, 0x53, 0x49, 0xff, 0xf0], "y\n"),
    want: ["xy"],
  },
  {
    name: "two-byte IAC commands (IP, AYT) are removed",
    input: bytes("a", [0xff, 0xf4], "b", [0xff, 0xf6], "\n"),
    want: ["ab"],
  },
  {
    name: "IAC IAC is a 0xFF data byte, decoded as U+FFFD",
    input: bytes("a", [0xff, 0xff], "b\n"),
    want: ["a\ufffdb"],
  },
  {
    name: "invalid UTF-8 is replaced, valid UTF-8 kept",
    input: bytes([0xc3, 0x28], " ", "héllo 世界", [0xed, 0xa0, 0x80], "\n"),
    want: ["\ufffd( héllo 世界\ufffd\ufffd\ufffd"],
  },
  {
    name: "a line of exactly the limit passes",
    input: bytes("x".repeat(8), "\n"),
    want: ["x".repeat(8)],
    max: 8,
  },
  {
    name: "a line over the limit is reported once and discarded to its end",
    input: bytes("x".repeat(9), "yyyyyyyyyyyyyyyy\nok\n"),
    want: [{ overlong: true }, "ok"],
    max: 8,
  },
  {
    name: "NUL bytes inside a line are kept for the sanitizer",
    input: bytes("a", [0], "b\n"),
    want: ["a\0b"],
  },
];

Deno.test("LineFramer gives the same lines for every split of the input", async (t) => {
  for (const c of CASES) {
    await t.step(c.name, () => {
      for (const chunks of splits(c.input)) {
        const { out, maxBuffered } = frame(chunks, c.max);
        assert.deepEqual(out, c.want, `split: ${chunks.map((x) => x.length).join("+")}`);
        assert.ok(maxBuffered <= (c.max ?? 64));
      }
    });
  }
});

Deno.test("LineFramer never buffers more than the limit of a line with no end", () => {
  const max = 1024;
  let overlong = 0;
  const f = new LineFramer(max, {
    line: () => assert.fail("no line expected"),
    overlong: () => overlong++,
  });
  const chunk = enc.encode("z".repeat(4096));
  for (let i = 0; i < 1000; i++) {
    f.push(chunk);
    assert.ok(f.buffered <= max);
  }
  assert.equal(overlong, 1);
});

Deno.test("LineFramer recovers after an overlong line split across chunks", () => {
  const { out } = frame([
    bytes("a".repeat(40)),
    bytes("a".repeat(40)),
    bytes("\r"),
    bytes("\nnext\n"),
  ]);
  assert.deepEqual(out, [{ overlong: true }, "next"]);
});

Deno.test("LineFramer without telnet keeps 0xFF and the byte after it as data (IRC)", () => {
  const bytes = new Uint8Array([0x61, 0xff, 0xfb, 0x62, 0x0d, 0x0a]);
  const out: string[] = [];
  const f = new LineFramer(64, { line: (l) => out.push(l), overlong() {} }, false);
  f.push(bytes);
  assert.deepEqual(out, ["a\ufffd\ufffdb"]);
  assert.deepEqual(frame([bytes]).out, ["a"], "with telnet, IAC WILL b is a negotiation");
});
