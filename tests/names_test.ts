import assert from "node:assert/strict";
import { nameKey, nameProblem, RESERVED_NAMES } from "../lib/names.ts";

Deno.test("nameProblem() accepts and refuses names by the rules", async (t) => {
  const cases: [string, string | undefined][] = [
    ["alice", undefined],
    ["Bob_2", undefined],
    ["a.b-c", undefined],
    ["x", undefined],
    ["x".repeat(24), undefined],
    ["x".repeat(25), "a name can be at most 24 characters"],
    ["", "a name cannot be empty"],
    ["a b", "a name may only contain letters, digits, _, - and ."],
    ["bob:", "a name may only contain letters, digits, _, - and ."],
    ["héllo", "a name may only contain letters, digits, _, - and ."],
    ["#room", "a name may only contain letters, digits, _, - and ."],
    ["server", '"server" is reserved'],
    ["Admin", '"Admin" is reserved'],
    ["EVERYONE", '"EVERYONE" is reserved'],
    ["10.0.0.1", "a name cannot look like an IP address"],
    ["1.2", "a name cannot look like an IP address"],
    ["::1", "a name may only contain letters, digits, _, - and ."],
    ["v1.2", undefined],
  ];
  for (const [name, want] of cases) {
    await t.step(JSON.stringify(name), () => assert.equal(nameProblem(name, 24), want));
  }
});

Deno.test("RESERVED_NAMES holds the names that read as the server or everyone", () => {
  for (const n of ["server", "all", "everyone", "admin"]) assert.ok(RESERVED_NAMES.has(n));
});

Deno.test("nameKey() makes names unique ignoring case", () => {
  assert.equal(nameKey("Alice"), nameKey("aLICE"));
  assert.notEqual(nameKey("alice"), nameKey("alice2"));
});
