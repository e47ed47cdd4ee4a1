// FrameReader and the frame encoders over plain bytes: each case fed whole, cut in two at every
// byte and one byte at a time; limits checked from a frame's header, before its payload.

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  BINARY_REFUSED,
  closeFrame,
  closeReason,
  encodeFrame,
  FrameReader,
  Opcode,
  textFrame,
  tooBigReason,
} from "../lib/server/web/frames.ts";

const enc = new TextEncoder();

type Out =
  | { text: string }
  | { ping: number[] }
  | { close: number; reason: string }
  | { fail: number; reason: string };

/** A client frame: masked unless told otherwise, FIN unless told otherwise. */
function frame(
  opcode: number,
  payload: Uint8Array | string,
  { fin = true, mask = true, rsv = 0, long = false }: {
    fin?: boolean;
    mask?: boolean;
    rsv?: number;
    long?: boolean;
  } = {},
): Uint8Array {
  const data = typeof payload === "string" ? enc.encode(payload) : payload;
  const key = [0x12, 0x34, 0x56, 0x78];
  const head = [(fin ? 0x80 : 0) | rsv | opcode];
  const m = mask ? 0x80 : 0;
  if (long) head.push(m | 127, 0, 0, 0, 0, 0, 0, data.length >> 8, data.length & 0xff);
  else if (data.length < 126) head.push(m | data.length);
  else head.push(m | 126, data.length >> 8, data.length & 0xff);
  if (mask) head.push(...key);
  const body = mask ? data.map((b, i) => b ^ key[i & 3]) : data;
  return Uint8Array.from([...head, ...body]);
}

/** A header announcing `length` bytes (64-bit form), masked, with no payload after it. */
function header(opcode: number, length: number): Uint8Array {
  const out = new Uint8Array(14);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | 127;
  new DataView(out.buffer).setBigUint64(2, BigInt(length));
  return out;
}

const concat = (...parts: Uint8Array[]) => Uint8Array.from(parts.flatMap((p) => [...p]));

/** Feeds `chunks` to a fresh reader; what it reported and the most it held. */
function read(chunks: Uint8Array[], max = 64): { out: Out[]; held: number } {
  const out: Out[] = [];
  let held = 0;
  const reader = new FrameReader(max, {
    text: (text) => out.push({ text }),
    ping: (payload) => out.push({ ping: [...payload] }),
    close: (close, reason) => out.push({ close, reason }),
    fail: (fail, reason) => out.push({ fail, reason }),
  });
  for (const c of chunks) {
    reader.push(c);
    held = Math.max(held, reader.buffered);
  }
  return { out, held };
}

/** Every way of cutting `bytes` in two, plus one byte at a time. */
function splits(bytes: Uint8Array): Uint8Array[][] {
  const all: Uint8Array[][] = [[bytes]];
  for (let i = 1; i < bytes.length; i++) all.push([bytes.subarray(0, i), bytes.subarray(i)]);
  all.push([...bytes].map((b) => Uint8Array.of(b)));
  return all;
}

const CASES: { name: string; input: Uint8Array; want: Out[]; max?: number }[] = [
  { name: "a masked text frame is a message", input: frame(1, "hi"), want: [{ text: "hi" }] },
  {
    name: "an empty text frame is an empty message",
    input: frame(1, ""),
    want: [{ text: "" }],
  },
  {
    name: "fragments are joined, with a ping between them",
    input: concat(
      frame(1, "hel", { fin: false }),
      frame(9, "p"),
      frame(0, "lo", { fin: false }),
      frame(0, " there"),
    ),
    want: [{ ping: [0x70] }, { text: "hello there" }],
  },
  {
    name: "a 16-bit length",
    input: frame(1, "é".repeat(60)),
    want: [{ text: "é".repeat(60) }],
    max: 120,
  },
  {
    name: "a 64-bit length",
    input: frame(1, "abc", { long: true }),
    want: [{ text: "abc" }],
  },
  {
    name: "a message of exactly the limit",
    input: frame(1, "x".repeat(64)),
    want: [{ text: "x".repeat(64) }],
  },
  {
    name: "a message one byte over the limit fails with 1009",
    input: frame(1, "x".repeat(65)),
    want: [{ fail: 1009, reason: tooBigReason(64) }],
  },
  {
    name: "fragments over the limit together fail with 1009 at the one that passes it",
    input: concat(frame(1, "x".repeat(40), { fin: false }), frame(0, "x".repeat(25))),
    want: [{ fail: 1009, reason: tooBigReason(64) }],
  },
  {
    name: "a binary frame fails with 1003",
    input: frame(2, "hi"),
    want: [{ fail: 1003, reason: BINARY_REFUSED }],
  },
  {
    name: "an unmasked frame fails with 1002",
    input: frame(1, "hi", { mask: false }),
    want: [{ fail: 1002, reason: "unmasked frame" }],
  },
  {
    name: "reserved bits fail with 1002",
    input: frame(1, "hi", { rsv: 0x40 }),
    want: [{ fail: 1002, reason: "reserved bits set" }],
  },
  {
    name: "an unknown opcode fails with 1002",
    input: frame(3, "hi"),
    want: [{ fail: 1002, reason: "unknown opcode 3" }],
  },
  {
    name: "a continuation with no message fails with 1002",
    input: frame(0, "hi"),
    want: [{ fail: 1002, reason: "no message to continue" }],
  },
  {
    name: "a new text frame inside a fragmented message fails with 1002",
    input: concat(frame(1, "a", { fin: false }), frame(1, "b")),
    want: [{ fail: 1002, reason: "fragment expected" }],
  },
  {
    name: "a fragmented ping fails with 1002",
    input: frame(9, "p", { fin: false }),
    want: [{ fail: 1002, reason: "control frame fragmented or too long" }],
  },
  {
    name: "a ping over 125 bytes fails with 1002",
    input: frame(9, "p".repeat(126)),
    want: [{ fail: 1002, reason: "control frame fragmented or too long" }],
  },
  {
    name: "invalid UTF-8 fails with 1007",
    input: frame(1, Uint8Array.of(0x68, 0xc3)),
    want: [{ fail: 1007, reason: "invalid UTF-8 in a text frame" }],
  },
  {
    name: "UTF-8 split across fragments is valid",
    input: concat(frame(1, Uint8Array.of(0xc3), { fin: false }), frame(0, Uint8Array.of(0xa9))),
    want: [{ text: "é" }],
  },
  {
    name: "a pong is ignored",
    input: concat(frame(10, "x"), frame(1, "a")),
    want: [{ text: "a" }],
  },
  {
    name: "a close frame with a code and reason, then nothing more is read",
    input: concat(frame(8, Uint8Array.of(0x03, 0xe8, 0x62, 0x79, 0x65)), frame(1, "late")),
    want: [{ close: 1000, reason: "bye" }],
  },
  {
    name: "an empty close frame is code 1005",
    input: frame(8, ""),
    want: [{ close: 1005, reason: "" }],
  },
  {
    name: "a close frame with one byte fails with 1002",
    input: frame(8, Uint8Array.of(3)),
    want: [{ fail: 1002, reason: "bad close code" }],
  },
  {
    name: "a close frame with code 1005 in it fails with 1002",
    input: frame(8, Uint8Array.of(0x03, 0xed)),
    want: [{ fail: 1002, reason: "bad close code" }],
  },
  {
    name: "a close reason of invalid UTF-8 fails with 1007",
    input: frame(8, Uint8Array.of(0x03, 0xe8, 0xff)),
    want: [{ fail: 1007, reason: "invalid UTF-8 in a close reason" }],
  },
  {
    name: "nothing is read after a failure",
    input: concat(frame(2, "x"), frame(1, "after")),
    want: [{ fail: 1003, reason: BINARY_REFUSED }],
  },
];

Deno.test("FrameReader.push() reads each case the same however it is cut", async (t) => {
  for (const c of CASES) {
    await t.step(c.name, () => {
      for (const chunks of splits(c.input)) {
        const { out, held } = read(chunks, c.max);
        assertEquals(out, c.want, `cut into ${chunks.map((x) => x.length).join("+")}`);
        assert(held <= (c.max ?? 64));
      }
    });
  }
});

Deno.test("FrameReader.push() refuses a 70 MiB frame from its header, holding nothing", () => {
  const { out, held } = read([header(1, 70 * 1024 * 1024), new Uint8Array(4096)], 4096);
  assertEquals(out, [{ fail: 1009, reason: tooBigReason(4096) }]);
  assertEquals(held, 0);
});

Deno.test("FrameReader.push() refuses a 2^63-byte length and a length with its top bit set", () => {
  const top = header(1, 0);
  top[2] = 0x80;
  assertEquals(read([top]).out, [{ fail: 1002, reason: "bad length" }]);
  const huge = header(1, 0);
  huge.set([0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 2);
  assertEquals(read([huge]).out, [{ fail: 1009, reason: tooBigReason(64) }]);
});

Deno.test("FrameReader.push() holds at most the limit over many fragments", () => {
  const parts = Array.from({ length: 8 }, () => frame(0, "x".repeat(8), { fin: false }));
  parts[0] = frame(1, "x".repeat(8), { fin: false });
  const { out, held } = read([...parts, frame(0, "y")], 64);
  assertEquals(out, [{ fail: 1009, reason: tooBigReason(64) }]);
  assert(held <= 64);
});

Deno.test("encodeFrame() writes unmasked final frames in all three length forms", () => {
  assertEquals([...textFrame("hi")], [0x81, 2, 0x68, 0x69]);
  const mid = encodeFrame(Opcode.Text, new Uint8Array(300));
  assertEquals([...mid.subarray(0, 4)], [0x81, 126, 1, 44]);
  assertEquals(mid.length, 304);
  const big = encodeFrame(Opcode.Text, new Uint8Array(70_000));
  assertEquals([...big.subarray(0, 10)], [0x81, 127, 0, 0, 0, 0, 0, 1, 0x11, 0x70]);
  assertEquals(big.length, 70_010);
});

Deno.test("closeFrame() carries the code and the reason cut to 123 bytes", () => {
  assertEquals([...closeFrame(1009, "big")], [0x88, 5, 0x03, 0xf1, 0x62, 0x69, 0x67]);
  const long = closeFrame(1000, "é".repeat(100));
  assertEquals(long[1], 2 + enc.encode(closeReason("é".repeat(100))).length);
  assert(long[1] <= 125);
});

Deno.test("closeReason() cuts a reason to 123 bytes at a character boundary", () => {
  assertEquals(closeReason("short"), "short");
  const cut = closeReason("é".repeat(100));
  assert(enc.encode(cut).length <= 123);
  assert(cut.endsWith("..."));
  assertEquals(cut, "é".repeat(60) + "...");
});
