// Connections over plain data: the real directory, rooms and delivery with a memory store,
// prompts and naming faked to record what they were asked, fake peers; no sockets.

import assert from "node:assert/strict";
import type { ServerEvent } from "../lib/protocol/events.ts";
import { Client, who } from "../lib/server/hub/client.ts";
import { Connections, RECLAIM_AFTER_CONNECTIONS } from "../lib/server/hub/connections.ts";
import { Delivery } from "../lib/server/hub/delivery.ts";
import { Directory } from "../lib/server/hub/directory.ts";
import { Rooms } from "../lib/server/hub/rooms.ts";
import { DEFAULT_LIMITS, type Limits } from "../lib/server/limits.ts";
import { MemoryStore } from "../lib/server/store.ts";
import { JsonPeer } from "./hub_fakes.ts";

type Event = ServerEvent & { text?: string; reason?: string; name?: string; count?: number };

/** Keeps JSON events, and the lines written while its client is still in text mode. */
class FakePeer extends JsonPeer<Event> {
  readonly lines: string[] = [];

  override write(bytes: Uint8Array, reply = false): void {
    const text = new TextDecoder().decode(bytes);
    if (text.startsWith("{")) super.write(bytes, reply);
    else this.lines.push(text);
  }
}

type Fake = Client & { peer: FakePeer };

function setup(
  { limits = DEFAULT_LIMITS, password = false, autoName = false }: {
    limits?: Limits;
    password?: boolean;
    autoName?: boolean;
  } = {},
) {
  const clients = new Set<Client>();
  const names = new Directory();
  const store = new MemoryStore(limits.historyLines, limits);
  const rooms = new Rooms(store, limits, () => {}, () => {});
  const did: string[] = [];
  const log: string[] = [];
  const connections = new Connections({
    limits,
    version: "1.2.3",
    clients,
    names,
    rooms,
    out: new Delivery(0, names.byKey),
    flood: { pace: { rate: 5, burst: 10 } },
    prompts: {
      askName: () => did.push("askName"),
      askPassword: () => did.push("askPassword"),
    },
    naming: {
      guest: (c) => {
        const name = names.freeGuestName();
        c.name = name;
        names.add(c);
        rooms.enter(c, rooms.lobby);
        did.push(`join ${name} auto`);
      },
    },
    password,
    autoName,
    log: (line) => log.push(line),
    who,
    reclaim: () => did.push("reclaim"),
    connected: (info) => did.push(`connected ${info.address}`),
    left: (info) => did.push(`left ${info.name} ${info.reason}`),
    disconnected: (info) => did.push(`disconnected ${info.address} ${info.name} ${info.reason}`),
  });
  let port = 5000;
  /** A new connection; with a name, it has joined #lobby. */
  const connect = (name?: string, now = 0): Fake => {
    const c = connections.connect(new FakePeer(`192.0.2.1:${port++}`), now) as Fake;
    c.mode = "json";
    if (name !== undefined) {
      c.name = name;
      names.add(c);
      rooms.enter(c, rooms.lobby);
    }
    c.peer.lines.length = 0;
    did.length = 0;
    log.length = 0;
    return c;
  };
  return { connections, clients, names, rooms, did, log, connect };
}

const said = (c: Fake) => c.peer.events.map((e) => `${e.type} ${e.text ?? e.reason ?? e.name}`);

Deno.test("Connections.connect() greets a newcomer and asks for a name", () => {
  const { connections, clients, did, log } = setup();
  const peer = new FakePeer("192.0.2.9:1");
  const c = connections.connect(peer, 1234);
  assert.ok(clients.has(c));
  assert.equal(c.connectedAt, 1234);
  assert.deepEqual(c.prompt, { for: "name" });
  assert.deepEqual(peer.lines, ["welcome to linechat 1.2.3 (0 online)\r\n"]);
  assert.deepEqual(did, ["connected 192.0.2.9:1", "askName"]);
  assert.deepEqual(log, ["connect 192.0.2.9:1 (1 connections)"]);
});

Deno.test("Connections.connect() in JSON mode greets in JSON from the first event (the web door)", () => {
  const { connections } = setup();
  const peer = new FakePeer("192.0.2.9:1");
  const c = connections.connect(peer, 0, "json");
  assert.equal(c.mode, "json");
  assert.deepEqual(peer.lines, []);
  assert.deepEqual(peer.events.map((e) => e.type), ["welcome"]);
});

Deno.test("Connections.connect() asks for the server's password first, when there is one", () => {
  const { connections, did } = setup({ password: true });
  const c = connections.connect(new FakePeer(), 0);
  assert.deepEqual(c.prompt, { for: "password", about: "server" });
  assert.deepEqual(did.slice(1), ["askPassword"]);
  connections.admitted(c);
  assert.deepEqual(c.prompt, { for: "name" });
  assert.deepEqual(did.slice(2), ["askName"]);
});

Deno.test("Connections.connect() gives a free guest name at once with autoName", () => {
  const { connections, did, connect } = setup({ autoName: true });
  connect("guest-1");
  const c = connections.connect(new FakePeer(), 0);
  assert.equal(c.name, "guest-2");
  assert.deepEqual(c.prompt, { for: "ready" });
  assert.deepEqual(did.slice(1), ["join guest-2 auto"]);
});

Deno.test("Connections.disconnect() frees the name and tells each roommate once", () => {
  const { connections, clients, names, rooms, did, log, connect } = setup();
  const ann = connect("ann");
  const ben = connect("ben");
  const dev = rooms.open("#dev")!;
  rooms.enter(ann, dev);
  rooms.enter(ben, dev);
  // A password answer still waiting is cancelled (the sanitizer would see it left running).
  ann.timer = setTimeout(() => assert.fail("the timer ran"), 1000);
  connections.disconnect(ann, "quit: bye");
  assert.ok(!clients.has(ann));
  assert.ok(ann.closing);
  assert.equal(names.get("ann"), undefined);
  assert.deepEqual(ann.rooms, []);
  assert.deepEqual([...dev.members], [ben]);
  assert.deepEqual(
    ben.peer.events.map((e) => ({ ...e, ts: 0 })),
    [{ type: "quit", ts: 0, name: "ann", count: 1, reason: "quit: bye" }],
  );
  assert.deepEqual(did, ["left ann quit: bye", "disconnected 192.0.2.1:5000 ann quit: bye"]);
  assert.deepEqual(log, [
    "leave ann (quit: bye) (1 online)",
    "disconnect 192.0.2.1:5000 (quit: bye) (1 connections)",
  ]);
  connections.disconnect(ann, "again");
  assert.equal(did.length, 2);
});

Deno.test("Connections.disconnect() of a client without a name tells nobody", () => {
  const { connections, did, log, connect } = setup();
  const ann = connect("ann");
  const c = connect();
  connections.disconnect(c);
  assert.deepEqual(ann.peer.events, []);
  assert.deepEqual(did, ["disconnected 192.0.2.1:5001 undefined undefined"]);
  assert.deepEqual(log, ["disconnect 192.0.2.1:5001 (1 connections)"]);
});

Deno.test("Connections.disconnect() reclaims memory once half of a burst has gone", () => {
  const { connections, did, connect } = setup();
  const all = Array.from({ length: RECLAIM_AFTER_CONNECTIONS }, () => connect());
  const half = RECLAIM_AFTER_CONNECTIONS / 2;
  for (const c of all.slice(0, half - 1)) connections.disconnect(c);
  assert.ok(!did.includes("reclaim"));
  connections.disconnect(all[half - 1]);
  assert.deepEqual(did.filter((d) => d === "reclaim"), ["reclaim"]);
  // The peak starts again from those left: fewer than a burst's worth never reclaims.
  for (const c of all.slice(half)) connections.disconnect(c);
  assert.deepEqual(did.filter((d) => d === "reclaim"), ["reclaim"]);
});

Deno.test("Connections.kick() says who and why (escapes removed), then disconnects; false for nobody", () => {
  const { connections, did, log, connect } = setup();
  const ann = connect("ann");
  assert.equal(connections.kick("ANN", "spam\x1b[31m", "op"), true);
  assert.deepEqual(said(ann), ["bye kicked by op: spam"]);
  assert.equal(ann.peer.closed, "kicked by op: spam");
  assert.equal(log[0], "kick ann by op (spam)");
  assert.ok(did.includes("left ann kicked"));
  assert.equal(connections.kick("nobody", undefined, "op"), false);
});

Deno.test("Connections.sweep() closes who chose no name in time, and the idle", () => {
  const limits = { ...DEFAULT_LIMITS, nameTimeoutMs: 60_000, idleTimeoutMs: 600_000 };
  const { connections, clients, log, connect } = setup({ limits });
  const nameless = connect();
  const idle = connect("ann");
  const busy = connect("ben");
  busy.lastInput = 500_000;
  connections.sweep(59_999);
  assert.equal(clients.size, 3);
  connections.sweep(600_000);
  assert.deepEqual(said(nameless), ["bye no name chosen within 60 s"]);
  assert.deepEqual(said(idle), ["bye idle for 600 s"]);
  assert.deepEqual([...clients], [busy]);
  assert.deepEqual(log.filter((l) => l.startsWith("timeout")), [
    "timeout 192.0.2.1:5000: no name chosen",
    "timeout ann: idle",
  ]);
});

Deno.test("Connections.sweep() does nothing with the time limits off", () => {
  const limits = { ...DEFAULT_LIMITS, nameTimeoutMs: 0, idleTimeoutMs: 0 };
  const { connections, clients, connect } = setup({ limits });
  connect();
  connect("ann");
  connections.sweep(1e12);
  assert.equal(clients.size, 2);
});

Deno.test("Connections.names lists names in the order they connected", () => {
  const { connections, names, connect } = setup();
  const ann = connect("ann");
  connect();
  connect("ben");
  names.rename(ann, "zed");
  assert.deepEqual(connections.names, ["zed", "ben"]);
});

Deno.test("Connections.shutdown() says goodbye to every connection, named or not", () => {
  const { connections, connect } = setup();
  const all = [connect("ann"), connect()];
  connections.shutdown("server shutting down");
  for (const c of all) {
    assert.deepEqual(said(c), ["bye server shutting down"]);
    assert.equal(c.peer.closed, "server shutting down");
  }
});
