import assert from "node:assert/strict";
import { looksAlike, nameKey, nameProblem, RESERVED_NAMES } from "../lib/protocol/names.ts";

Deno.test("nameProblem() accepts and refuses names by the rules", async (t) => {
  const cases: [string, string | undefined][] = [
    ["alice", undefined],
    ["Bob_2", undefined],
    ["a-b_c", undefined],
    ["a.b", "a name may only contain letters, digits, _ and -"],
    ["x", undefined],
    ["x".repeat(24), undefined],
    ["x".repeat(25), "a name can be at most 24 characters"],
    ["", "a name cannot be empty"],
    ["a b", "a name may only contain letters, digits, _ and -"],
    ["bob:", "a name may only contain letters, digits, _ and -"],
    ["héllo", "a name may only contain letters, digits, _ and -"],
    ["#room", "a name may only contain letters, digits, _ and -"],
    ["server", '"server" is reserved'],
    ["Admin", '"Admin" is reserved'],
    ["EVERYONE", '"EVERYONE" is reserved'],
    ["adm1n", '"adm1n" is reserved'],
    ["5erver", undefined],
    ["10.0.0.1", "a name may only contain letters, digits, _ and -"],
    ["1.2", "a name may only contain letters, digits, _ and -"],
    ["::1", "a name may only contain letters, digits, _ and -"],
    ["v1.2", "a name may only contain letters, digits, _ and -"],
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

Deno.test("nameKey() gives look-alike names one key (TR39 skeleton and case)", async (t) => {
  const same: [string, string][] = [
    ["aIice", "alice"],
    ["a1ice", "alice"],
    ["AL1CE", "alice"],
    ["ALICE", "alice"],
    ["a|ice", "alice"],
    ["aiice", "alice"],
    ["b0b", "bob"],
    ["B0B", "bob"],
    ["rnoe", "moe"],
    ["RNOE", "Moe"],
    ["wi11iam", "William"],
    ["#Iobby", "#lobby"],
  ];
  for (const [a, b] of same) {
    await t.step(`${a} = ${b}`, () => assert.equal(nameKey(a), nameKey(b)));
  }
  const different: [string, string][] = [
    ["alice", "alicia"],
    ["alice", "aiice2"],
    ["vvill", "will"],
    ["clan", "dan"],
    ["5am", "sam"],
    ["bob", "b8b"],
  ];
  for (const [a, b] of different) {
    await t.step(`${a} != ${b}`, () => assert.notEqual(nameKey(a), nameKey(b)));
  }
});

Deno.test("nameKey() is idempotent", async (t) => {
  for (const name of ["alice", "AL1CE", "rnoe", "M0MMY", "Wi11iam_2.0", "x-I|l1i", "#Iobby"]) {
    await t.step(name, () => assert.equal(nameKey(nameKey(name)), nameKey(name)));
  }
});

Deno.test("looksAlike() tells a look-alike from the same name in another case", () => {
  assert.equal(looksAlike("aIice", "alice"), true);
  assert.equal(looksAlike("a1ice", "Alice"), true);
  assert.equal(looksAlike("Alice", "alice"), false);
  assert.equal(looksAlike("bob", "alice"), false);
});
