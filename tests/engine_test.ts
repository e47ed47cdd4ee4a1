import assert from "node:assert/strict";
import {
  compareIds,
  EngineSpecError,
  NODE_NAME,
  parseEngine,
} from "../lib/server/engine/engine.ts";

Deno.test("parseEngine() reads memory and redis:// addresses", async (t) => {
  const cases: [string, ReturnType<typeof parseEngine>][] = [
    ["memory", { kind: "memory" }],
    ["redis://h:1", {
      kind: "redis",
      url: "redis://h:1",
      host: "h",
      port: 1,
      db: 0,
      shown: "redis://h:1/0",
    }],
    ["redis://h", {
      kind: "redis",
      url: "redis://h",
      host: "h",
      port: 6379,
      db: 0,
      shown: "redis://h:6379/0",
    }],
    ["redis://:secret@h:2/3", {
      kind: "redis",
      url: "redis://:secret@h:2/3",
      host: "h",
      port: 2,
      db: 3,
      shown: "redis://h:2/3",
    }],
    ["redis://[::1]:5/15", {
      kind: "redis",
      url: "redis://[::1]:5/15",
      host: "[::1]",
      port: 5,
      db: 15,
      shown: "redis://[::1]:5/15",
    }],
  ];
  for (const [text, want] of cases) {
    await t.step(text, () => assert.deepEqual(parseEngine(text), want));
  }
});

Deno.test("parseEngine() rejects anything else, keeping passwords out of its messages", async (t) => {
  for (
    const text of [
      "",
      "Memory",
      "redis:",
      "http://h:1",
      "redis://h:1/16",
      "redis://h:1/x",
      "redis://:pw@h:1/0?a",
      "redis://h:1/#f",
    ]
  ) {
    await t.step(JSON.stringify(text), () => {
      assert.throws(() => parseEngine(text), (err: unknown) => {
        assert(err instanceof EngineSpecError);
        assert(!err.message.includes("pw"), err.message);
        return true;
      });
    });
  }
});

Deno.test("NODE_NAME takes 1-64 letters, digits, ., _ and -", () => {
  for (const ok of ["n1", "host.example-1_2", "a".repeat(64)]) assert(NODE_NAME.test(ok), ok);
  for (const bad of ["", "a b", "a\nb", "ä", "a".repeat(65), "a:b"]) {
    assert(!NODE_NAME.test(bad), bad);
  }
});

Deno.test("compareIds() orders memory and Redis stream ids as numbers", () => {
  assert(compareIds("2", "10") < 0);
  assert(compareIds("10", "2") > 0);
  assert.equal(compareIds("7", "7"), 0);
  assert(compareIds("1700000000000-9", "1700000000000-10") < 0);
  assert(compareIds("1700000000001-0", "1700000000000-99") > 0);
  assert.equal(compareIds("5-1", "5-1"), 0);
});
