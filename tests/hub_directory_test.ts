// The directory over plain data: clients with a fake peer, no sockets.

import assert from "node:assert/strict";
import { Client, type Peer } from "../lib/server/hub.ts";
import { Directory } from "../lib/server/hub/directory.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";

const peer: Peer = { address: "192.0.2.1:5000", write() {}, close() {} };

function listed(names: Directory, name: string): Client {
  const c = new Client(peer, DEFAULT_LIMITS, 0);
  c.name = name;
  names.add(c);
  return c;
}

Deno.test("Directory.get() and has() find a name by any spelling of its key", () => {
  const names = new Directory();
  const ann = listed(names, "Ann");
  assert.equal(names.get("ANN"), ann);
  assert.equal(names.has("ann"), true);
  assert.equal(names.has("ben"), false);
  assert.equal(names.size, 1);
  names.remove("aNN");
  assert.equal(names.size, 0);
});

Deno.test("Directory.taken() says who holds a name, naming a look-alike", async (t) => {
  const names = new Directory();
  const ann = listed(names, "ann");
  listed(names, "paypal");
  const other = new Client(peer, DEFAULT_LIMITS, 0);
  const cases: [string, Client, string | undefined][] = [
    ["ben", other, undefined],
    ["ann", ann, undefined],
    ["ANN", ann, undefined],
    ["ann", other, "the name ann is taken; choose another"],
    ["Ann", other, "the name Ann is taken; choose another"],
    ["paypa1", other, "the name paypa1 looks too much like paypal (online); choose another"],
  ];
  for (const [name, by, why] of cases) {
    await t.step(`${name} by ${by.name ?? "a newcomer"}`, () => {
      assert.equal(names.taken(name, by), why);
    });
  }
});

Deno.test("Directory.rename() lists under the new name and moves ignores and /reply partners", () => {
  const names = new Directory();
  const ann = listed(names, "ann");
  const ben = listed(names, "ben");
  const cat = listed(names, "cat");
  ben.ignored = new Set(["ann", "dan"]);
  cat.lastPmFrom = "ann";
  ben.lastPmFrom = "cat";
  names.rename(ann, "Anna");
  assert.equal(ann.name, "Anna");
  assert.equal(names.get("anna"), ann);
  assert.equal(names.has("ann"), false);
  assert.deepEqual([...names.values()].map((c) => c.name), ["ben", "cat", "Anna"]);
  assert.deepEqual([...ben.ignored], ["dan", "anna"]);
  assert.equal(cat.lastPmFrom, "Anna");
  assert.equal(ben.lastPmFrom, "cat");
});

Deno.test("Directory.freeGuestName() skips guest names in use", () => {
  const names = new Directory();
  listed(names, "guest-2");
  assert.equal(names.freeGuestName(), "guest-1");
  listed(names, "guest-1");
  assert.equal(names.freeGuestName(), "guest-3");
});
