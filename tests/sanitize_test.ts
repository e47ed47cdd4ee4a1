import assert from "node:assert/strict";
import { sanitize } from "../lib/sanitize.ts";

Deno.test("sanitize() removes controls and escape sequences", async (t) => {
  const cases: [string, string, string][] = [
    ["plain text is unchanged", "hello, world", "hello, world"],
    ["tabs are kept", "a\tb", "a\tb"],
    ["CSI clear screen", "a\x1b[2Jb", "ab"],
    ["CSI colour", "\x1b[31;1mred\x1b[0m", "red"],
    ["OSC title ended by BEL", "x\x1b]0;pwned\x07y", "xy"],
    ["OSC ended by ST", "x\x1b]8;;http://e\x1b\\y", "xy"],
    ["8-bit CSI", "a\x9b2Jb", "ab"],
    ["two-byte ESC (reset)", "a\x1bcb", "ab"],
    ["C0 controls", "a\x00\x07\x08\r\nb", "ab"],
    ["DEL and C1", "a\x7f\x85\x84b", "ab"],
    ["8-bit APC string up to ST", "a\x9fhidden\x9cb", "ab"],
    ["bidi overrides and isolates", "a\u202eb\u2066c\u2069\u200fd", "abcd"],
    ["line separators", "a\u2028b\u2029c", "abc"],
    ["CJK and emoji kept", "世界 👋 é", "世界 👋 é"],
    ["a lone ESC at the end", "abc\x1b", "abc"],
  ];
  for (const [name, input, want] of cases) {
    await t.step(name, () => assert.equal(sanitize(input), want));
  }
});
