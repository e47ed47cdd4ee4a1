// The hub's per-connection state over plain data: a fake peer, no sockets.

import assert from "node:assert/strict";
import { Client, type Peer, who } from "../lib/server/hub/client.ts";
import { Client as Exported } from "../lib/server/hub.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";

const peer: Peer = { address: "192.0.2.1:5000", write() {}, close() {} };

Deno.test("Client starts unnamed, in text mode, at the name prompt, with no room", () => {
  const c = new Client(peer, DEFAULT_LIMITS, 1234);
  assert.equal(c.name, undefined);
  assert.equal(c.mode, "text");
  assert.deepEqual(c.prompt, { for: "name" });
  assert.equal(c.room, undefined);
  assert.equal(c.operator, false);
  assert.equal(c.authFailures, 0);
  assert.equal(c.connectedAt, 1234);
  assert.equal(c.lastInput, 1234);
  assert.equal(c.seen.size, 0);
  assert.equal(c.peer, peer);
});

Deno.test("Client has a flood bucket only when a rate is set", async (t) => {
  const cases: [string, number, boolean][] = [
    ["rate 0 means no flood control", 0, false],
    ["rate 5 gives a bucket", 5, true],
  ];
  for (const [what, ratePerSecond, bucket] of cases) {
    await t.step(what, () => {
      const c = new Client(peer, { ...DEFAULT_LIMITS, ratePerSecond }, 0);
      assert.equal(c.bucket !== undefined, bucket);
      assert.equal(c.floodBudget, undefined);
    });
  }
});

Deno.test("lib/server/hub.ts re-exports Client from lib/server/hub/client.ts", () => {
  assert.equal(Exported, Client);
});

Deno.test("who() names a client by its name, or by its address before it has one", () => {
  const c = new Client(peer, DEFAULT_LIMITS, 0);
  assert.equal(who(c), "192.0.2.1:5000");
  c.name = "ann";
  assert.equal(who(c), "ann");
});
