// Flood control over plain data: token buckets on clients with fake peers, no sockets.

import assert from "node:assert/strict";
import { type ServerEvent } from "../lib/protocol/events.ts";
import { Client } from "../lib/server/hub/client.ts";
import { Delivery } from "../lib/server/hub/delivery.ts";
import { Flood, FLOOD_NOTICE_INTERVAL_MS } from "../lib/server/hub/flood.ts";
import { DEFAULT_LIMITS, type Limits } from "../lib/server/limits.ts";
import { JsonPeer } from "./hub_fakes.ts";

class FakePeer extends JsonPeer<ServerEvent & { text?: string; reason?: string }> {}

function setup(limits: Partial<Limits>) {
  const all = { ...DEFAULT_LIMITS, ...limits };
  const gone: string[] = [];
  const flood = new Flood({
    limits: all,
    out: new Delivery(0, new Map()),
    log: () => {},
    who: (c) => c.name ?? c.peer.address,
    disconnect: (_c, reason) => gone.push(reason ?? ""),
  });
  const client = new Client(new FakePeer(), all, 0) as Client & { peer: FakePeer };
  client.mode = "json";
  return { flood, client, gone };
}

Deno.test("Flood.admit() lets the burst through, then drops with a notice counting lines", () => {
  const { flood, client, gone } = setup({ ratePerSecond: 1, burst: 2, floodDisconnectLines: 10 });
  const now = 10_000;
  const admitted = [0, 0, 0, 0].map(() => flood.admit(client, now));
  assert.deepEqual(admitted, [true, true, false, false]);
  // One notice when the flood starts; the next drop within the interval is only counted.
  assert.deepEqual(client.peer.events.map((e) => e.text), [
    "slow down: 1 line dropped so far (limit 1/s after a burst of 2)",
  ]);
  assert.equal(client.dropped, 2);
  flood.admit(client, now + FLOOD_NOTICE_INTERVAL_MS - 1);
  assert.equal(client.peer.events.length, 1);
  assert.equal(gone.length, 0);
});

Deno.test("Flood.admit() disconnects a client that keeps flooding", () => {
  const { flood, client, gone } = setup({ ratePerSecond: 1, burst: 1, floodDisconnectLines: 2 });
  const admitted = [0, 0, 0, 0].map(() => flood.admit(client, 0));
  assert.deepEqual(admitted, [true, false, false, false]);
  assert.deepEqual(gone, ["flooding"]);
  assert.equal(client.peer.events.at(-1)?.type, "bye");
});

Deno.test("Flood.admit() always admits with flood control off, noting the input time", () => {
  const { flood, client } = setup({ ratePerSecond: 0 });
  for (let i = 0; i < 100; i++) assert.equal(flood.admit(client, 5), true);
  assert.equal(client.lastInput, 5);
});

Deno.test("Flood.noisy() charges noticeCost lines for what others see", async (t) => {
  const cases: [string, Partial<Limits>, boolean[]][] = [
    ["cost 3 of a burst of 5", { ratePerSecond: 1, burst: 5, noticeCost: 3 }, [true, true, false]],
    ["cost 1 is free", { ratePerSecond: 1, burst: 1, noticeCost: 1 }, [true, true, true]],
    ["no flood control", { ratePerSecond: 0, noticeCost: 3 }, [true, true, true]],
  ];
  for (const [what, limits, allowed] of cases) {
    await t.step(what, () => {
      const { flood, client } = setup(limits);
      assert.deepEqual(allowed.map(() => flood.noisy(client, "topic changes", 0)), allowed);
      const refused = allowed.filter((a) => !a).length;
      assert.equal(client.peer.events.length, refused);
    });
  }
});

Deno.test("Flood.pace is the rate and burst clients are told", () => {
  const { flood } = setup({ ratePerSecond: 4, burst: 9 });
  assert.deepEqual(flood.pace, { rate: 4, burst: 9 });
});
