// Failures told to one client over plain data: a fake peer, no sockets, no store. A store error
// is made as node:sqlite makes one.

import assert from "node:assert/strict";
import type { ServerEvent } from "../lib/protocol/events.ts";
import { Client, who } from "../lib/server/hub/client.ts";
import { Delivery } from "../lib/server/hub/delivery.ts";
import { describe, Failures } from "../lib/server/hub/failures.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";
import { JsonPeer } from "./hub_fakes.ts";

type Event = ServerEvent & { code?: string; text?: string };

class FakePeer extends JsonPeer<Event> {}

type Fake = Client & { peer: FakePeer };

function busy(): Error {
  return Object.assign(new Error("database is locked"), { code: "ERR_SQLITE_ERROR", errcode: 5 });
}

function setup() {
  const log: string[] = [];
  const failures = new Failures({
    out: new Delivery(0, new Map()),
    log: (line) => log.push(line),
    who,
  });
  const client = new Client(new FakePeer(), DEFAULT_LIMITS, 0) as Fake;
  client.mode = "json";
  return { failures, log, client };
}

const said = (c: Fake) => c.peer.events.map((e) => `${e.type} ${e.code}: ${e.text}`);

Deno.test("describe() names an error and its message, or prints anything else", async (t) => {
  const cases: [string, unknown, string][] = [
    ["an Error", new TypeError("no"), "TypeError: no"],
    ["a string", "oops", "oops"],
    ["undefined", undefined, "undefined"],
  ];
  for (const [what, err, text] of cases) {
    await t.step(what, () => assert.equal(describe(err), text));
  }
});

Deno.test("Failures.failed() tells a store error as not stored, in words, and logs it", () => {
  const { failures, log, client } = setup();
  failures.failed(client, busy(), "that line");
  assert.deepEqual(said(client), [
    "error not-stored: the server could not do that line: the data file is busy; try again later",
  ]);
  assert.deepEqual(log, ["store failed for 192.0.2.1:5000: Error: database is locked"]);
});

Deno.test("Failures.failed() tells a bug as internal, without its message, and logs it", () => {
  const { failures, log, client } = setup();
  client.name = "ann";
  failures.failed(client, new RangeError("secret detail"), "that");
  assert.deepEqual(said(client), ["error internal: the server could not handle that"]);
  assert.deepEqual(log, ["error for ann: RangeError: secret detail"]);
});

Deno.test("Failures.notStored() says it was not sent, with the store's reason", () => {
  const { failures, log, client } = setup();
  failures.notStored(client, busy());
  assert.deepEqual(said(client), [
    "error not-stored: the server could not store that (the data file is busy); it was not sent",
  ]);
  assert.deepEqual(log, ["store failed: Error: database is locked"]);
});
