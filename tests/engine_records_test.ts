// The shared records' and orders' parsers (what every node reads back from Redis, which any
// program with its address can write): well-formed ones pass, anything else is undefined.

import assert from "node:assert/strict";
import {
  MAX_RECORD_KEY,
  MAX_RECORD_VALUE,
  parseOrder,
  parseRecordChange,
  recordProblem,
} from "../lib/server/engine/engine.ts";

Deno.test("parseRecordChange() takes a set or a removal, and nothing else", async (t) => {
  const cases: [string, unknown][] = [
    ['{"kind":"ban","key":"name x","value":"{}","node":"n1"}', {
      kind: "ban",
      key: "name x",
      value: "{}",
      node: "n1",
    }],
    ['{"kind":"ban","key":"name x","node":"n1","extra":1}', {
      kind: "ban",
      key: "name x",
      node: "n1",
    }],
    ["not json", undefined],
    ["[1,2]", undefined],
    ["null", undefined],
    ['"a string"', undefined],
    ['{"kind":"ban","key":"name x","value":5,"node":"n1"}', undefined],
    ['{"kind":"BAN","key":"name x","node":"n1"}', undefined],
    ['{"kind":"ban","key":"","node":"n1"}', undefined],
    ['{"kind":"ban","key":"k","node":"bad node"}', undefined],
    [JSON.stringify({ kind: "ban", key: "k".repeat(MAX_RECORD_KEY + 1), node: "n" }), undefined],
    [
      JSON.stringify({ kind: "ban", key: "k", value: "v".repeat(MAX_RECORD_VALUE + 1), node: "n" }),
      undefined,
    ],
  ];
  for (const [text, want] of cases) {
    await t.step(text.slice(0, 60), () => assert.deepEqual(parseRecordChange(text), want));
  }
});

Deno.test("parseOrder() takes a kick, a purge or a takeover, and nothing else", async (t) => {
  const kick = { kind: "kick", name: "troll", by: "op", to: "n2", node: "n1" };
  const purge = { kind: "purge", room: "#dev", what: "history", by: "op", node: "n1" };
  const cases: [unknown, unknown][] = [
    [kick, kick],
    [{ ...kick, reason: "spam" }, { ...kick, reason: "spam" }],
    [purge, purge],
    [{ kind: "regain", name: "alice", by: "alice", to: "n2", node: "n1" }, {
      kind: "regain",
      name: "alice",
      by: "alice",
      to: "n2",
      node: "n1",
    }],
    [{ kind: "regain", name: "alice", by: "alice", node: "n1" }, undefined],
    [{ ...kick, to: "a b" }, undefined],
    [{ ...kick, reason: 3 }, undefined],
    [{ ...kick, name: "x".repeat(300) }, undefined],
    [{ ...purge, what: "everything" }, undefined],
    [{ ...purge, room: 1 }, undefined],
    [{ ...purge, by: undefined }, undefined],
    [{ kind: "shutdown", by: "op", node: "n1" }, undefined],
    ["[]", undefined],
  ];
  for (const [value, want] of cases) {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    await t.step(text.slice(0, 60), () => assert.deepEqual(parseOrder(text), want));
  }
});

Deno.test("recordProblem() bounds a record's kind, key and value", () => {
  assert.equal(recordProblem("ban", "name x", "{}"), undefined);
  assert.match(recordProblem("ban!", "k")!, /kind/);
  assert.match(recordProblem("ban", "")!, /key/);
  assert.match(recordProblem("ban", "k", "v".repeat(MAX_RECORD_VALUE + 1))!, /value/);
});
