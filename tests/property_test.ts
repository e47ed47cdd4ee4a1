// Property-based tests (fast-check): the framer, the parser and the sanitizer hold their
// promises for any input, not just the cases someone thought of.

import fc from "fast-check";
import assert from "node:assert/strict";
import { parseInput } from "../lib/protocol/commands.ts";
import { LineFramer } from "../lib/protocol/framing.ts";
import { sanitize } from "../lib/protocol/sanitize.ts";
import { UNSAFE } from "./helpers.ts";

/** Bytes biased towards the ones framing cares about: CR, LF, NUL, IAC and commands. */
const interestingByte = fc.oneof(
  fc.constantFrom(0x0d, 0x0a, 0x00, 0xff, 0xfa, 0xf0, 0xfb, 0xfd, 0xc3, 0x80),
  fc.integer({ min: 0x20, max: 0x7e }),
  fc.integer({ min: 0, max: 255 }),
);
const bytes = fc.array(interestingByte, { maxLength: 400 }).map((a) => Uint8Array.from(a));

type Out = string | null;

function frame(max: number, chunks: Uint8Array[]): { out: Out[]; maxBuffered: number } {
  const out: Out[] = [];
  let maxBuffered = 0;
  const f = new LineFramer(max, { line: (l) => out.push(l), overlong: () => out.push(null) });
  for (const c of chunks) {
    f.push(c);
    maxBuffered = Math.max(maxBuffered, f.buffered);
  }
  return { out, maxBuffered };
}

/** Cuts `data` at the given points (any order, duplicates allowed). */
function cut(data: Uint8Array, points: number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => p % (data.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...at, data.length]) {
    chunks.push(data.subarray(prev, p));
    prev = p;
  }
  return chunks;
}

Deno.test("LineFramer: any chunking of the same bytes gives the same lines, within the limit", () => {
  fc.assert(
    fc.property(
      bytes,
      fc.array(fc.nat(), { maxLength: 20 }),
      fc.integer({ min: 1, max: 64 }),
      (data, points, max) => {
        const whole = frame(max, [data]);
        const split = frame(max, cut(data, points));
        assert.deepEqual(split.out, whole.out);
        assert.ok(split.maxBuffered <= max && whole.maxBuffered <= max);
        for (const line of whole.out) {
          if (line !== null) assert.ok(new TextEncoder().encode(line).length <= max * 3);
        }
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("parseInput() never throws and always returns a known kind", () => {
  const line = fc.oneof(
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.tuple(fc.constantFrom("/", "//", "server:", "bob:", "/pm ", "/gm ", "/dm "), fc.string())
      .map(([a, b]) => a + b),
  );
  fc.assert(
    fc.property(line, fc.boolean(), (l, online) => {
      const r = parseInput(l, { isUser: () => online });
      assert.ok(["command", "text", "empty", "error"].includes(r.kind));
    }),
    { numRuns: 5000 },
  );
});

Deno.test("sanitize() output never holds a control character or escape sequence", () => {
  const piece = fc.oneof(
    fc.string({ unit: "binary", maxLength: 20 }),
    fc.constantFrom("\x1b[", "\x1b]", "\x07", "\x1b\\", "\x9b", "\x9d", "\u202e", "\r\n", "\x00"),
    fc.string({ unit: "grapheme", maxLength: 10 }),
  );
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 12 }).map((a) => a.join("")), (text) => {
      const clean = sanitize(text);
      assert.doesNotMatch(clean, UNSAFE);
      assert.equal(sanitize(clean), clean);
    }),
    { numRuns: 5000 },
  );
});
