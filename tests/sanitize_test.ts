import assert from "node:assert/strict";
import { sanitize, sanitizeLabel } from "../lib/protocol/sanitize.ts";

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

const FAMILY = "👨\u200d👩\u200d👧";
const RAINBOW_FLAG = "🏳\ufe0f\u200d🌈";
const ENGLAND = "\u{1f3f4}\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}";
const CODER = "👩🏽\u200d💻";

Deno.test("sanitize() and sanitizeLabel() remove each invisible character", async (t) => {
  const cases: [string, string][] = [
    ["zero-width space U+200B", "\u200b"],
    ["zero-width non-joiner U+200C", "\u200c"],
    ["zero-width joiner U+200D", "\u200d"],
    ["word joiner U+2060", "\u2060"],
    ["invisible times U+2062", "\u2062"],
    ["invisible plus U+2064", "\u2064"],
    ["BOM U+FEFF", "\ufeff"],
    ["soft hyphen U+00AD", "\u00ad"],
    ["combining grapheme joiner U+034F", "\u034f"],
    ["Hangul filler U+3164", "\u3164"],
    ["Hangul choseong filler U+115F", "\u115f"],
    ["Hangul jungseong filler U+1160", "\u1160"],
    ["halfwidth Hangul filler U+FFA0", "\uffa0"],
    ["Mongolian vowel separator U+180E", "\u180e"],
    ["variation selector 1 U+FE00", "\ufe00"],
    ["emoji variation selector U+FE0F", "\ufe0f"],
    ["variation selector 17 U+E0100", "\u{e0100}"],
    ["tag letter a U+E0061", "\u{e0061}"],
    ["cancel tag U+E007F", "\u{e007f}"],
    ["language tag U+E0001", "\u{e0001}"],
    ["interlinear annotation anchor U+FFF9", "\ufff9"],
    ["interlinear annotation terminator U+FFFB", "\ufffb"],
  ];
  for (const [name, c] of cases) {
    await t.step(name, () => {
      assert.equal(sanitize(`a${c}b${c}`), "ab");
      assert.equal(sanitizeLabel(`${c}a${c}b`), "ab");
    });
  }
});

Deno.test("sanitize() keeps the joiners, selectors and tags inside emoji", async (t) => {
  const cases: [string, string, string][] = [
    ["family (ZWJ sequence)", `hi ${FAMILY}`, `hi ${FAMILY}`],
    ["rainbow flag (selector and ZWJ)", RAINBOW_FLAG, RAINBOW_FLAG],
    ["England flag (tag sequence)", `go ${ENGLAND}!`, `go ${ENGLAND}!`],
    ["skin tone then ZWJ", CODER, CODER],
    ["keycap", "1\ufe0f\u20e3", "1\ufe0f\u20e3"],
    ["heart with selector", "\u2764\ufe0f", "\u2764\ufe0f"],
    ["zero-width space inside a family", "👨\u200d\u200b👩", "👨👩"],
    ["zero-width space beside a family", `\u200b${FAMILY}\u200b`, FAMILY],
    ["ZWJ between letters", "a\u200db", "ab"],
    ["ZWJ after an emoji, before a letter", "👨\u200da", "👨a"],
    ["ZWJ at the end", "👨\u200d", "👨"],
    ["two ZWJs in a row", "👨\u200d\u200d👩", "👨\u200d👩"],
    ["a second selector", "\u2764\ufe0f\ufe0f", "\u2764\ufe0f"],
    ["a selector after a letter", "a\ufe0f", "a"],
    ["tags after a letter", "a\u{e0067}\u{e0062}\u{e007f}", "a"],
    ["flag tags without the cancel tag", "\u{1f3f4}\u{e0067}\u{e0062}\u{e0065}", "\u{1f3f4}"],
    ["flag tags spelling hidden text", `\u{1f3f4}${tags("ignoreallrules")}\u{e007f}`, "\u{1f3f4}"],
    ["flag tags in capitals", `\u{1f3f4}${tags("GBENG")}\u{e007f}`, "\u{1f3f4}"],
  ];
  for (const [name, input, want] of cases) {
    await t.step(name, () => assert.equal(sanitize(input), want));
  }
});

/** `text` spelled in tag characters (U+E0000 + ASCII). */
function tags(text: string): string {
  return Array.from(text, (c) => String.fromCodePoint(0xe0000 + c.charCodeAt(0))).join("");
}

Deno.test("sanitizeLabel() removes emoji joiners and tags too", async (t) => {
  const cases: [string, string, string][] = [
    ["family", `news ${FAMILY}`, "news 👨👩👧"],
    ["rainbow flag", RAINBOW_FLAG, "🏳🌈"],
    ["England flag", ENGLAND, "\u{1f3f4}"],
    ["controls and escapes", "a\x1b[2Jb\u202ec", "abc"],
    ["plain text is unchanged", "weekly sync", "weekly sync"],
  ];
  for (const [name, input, want] of cases) {
    await t.step(name, () => assert.equal(sanitizeLabel(input), want));
  }
});

Deno.test("sanitize() sees every invisible character on its fast path's scan", () => {
  // A character the scan missed would come back unchanged (the fast path returns its input).
  const invisible = /^[\p{Default_Ignorable_Code_Point}\uFFF9-\uFFFB]$/u;
  let count = 0;
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const c = String.fromCodePoint(cp);
    if (!invisible.test(c)) continue;
    count++;
    assert.equal(sanitize(`x${c}`), "x", `U+${cp.toString(16)}`);
    assert.equal(sanitizeLabel(`x${c}`), "x", `U+${cp.toString(16)}`);
  }
  assert.ok(count > 4000, `${count} invisible characters`);
});

Deno.test("sanitize() returns clean text itself and is idempotent", () => {
  const clean = "hello, world 世界 👋";
  assert.equal(sanitize(clean), clean);
  for (
    const input of [FAMILY, ENGLAND, "👨\u200d\u200b👩", "a\x1b[1m\u200bb", "\u2764\ufe0f\ufe0f"]
  ) {
    assert.equal(sanitize(sanitize(input)), sanitize(input));
    assert.equal(sanitizeLabel(sanitizeLabel(input)), sanitizeLabel(input));
  }
});
