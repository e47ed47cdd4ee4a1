// The per-command handlers over plain data: the hub's parts wired as the hub wires them, with
// a memory store and fake peers; no sockets. Each command is typed and parsed as a client's.

import assert from "node:assert/strict";
import { type Command, COMMAND_NAMES, parseInput } from "../lib/protocol/commands.ts";
import type { ServerEvent } from "../lib/protocol/events.ts";
import { Client } from "../lib/server/hub/client.ts";
import { Delivery } from "../lib/server/hub/delivery.ts";
import { Directory } from "../lib/server/hub/directory.ts";
import { Flood } from "../lib/server/hub/flood.ts";
import { type Handler, handlers } from "../lib/server/hub/handlers.ts";
import { Messages } from "../lib/server/hub/messages.ts";
import { Naming } from "../lib/server/hub/naming.ts";
import { Operators } from "../lib/server/hub/operators.ts";
import { PromptMachine } from "../lib/server/hub/prompts.ts";
import { Rooms } from "../lib/server/hub/rooms.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";
import { Moderation } from "../lib/server/moderation.ts";
import { MemoryStore } from "../lib/server/store.ts";
import { JsonPeer } from "./hub_fakes.ts";

type Event = ServerEvent & { code?: string; text?: string; room?: string };

class FakePeer extends JsonPeer<Event> {}

type Fake = Client & { peer: FakePeer };

function setup() {
  const limits = DEFAULT_LIMITS;
  const clients = new Set<Client>();
  const names = new Directory();
  const store = new MemoryStore(limits.historyLines, limits);
  const rooms = new Rooms(store, limits, () => {}, () => {});
  const moderation = new Moderation(store);
  const out = new Delivery(0, names.byKey);
  const did: string[] = [];
  const log = (line: string) => did.push(`log ${line}`);
  const disconnect = (c: Client, reason?: string) => {
    clients.delete(c);
    did.push(`disconnect ${c.name} ${reason}`);
  };
  const ops = new Operators({
    limits,
    clients,
    names,
    rooms,
    moderation,
    out,
    log,
    storeFailed: () => {},
    kick: () => false,
    disconnect,
  }, undefined);
  const flood = new Flood({ limits, out, log, who: (c) => c.name ?? "", disconnect });
  const messages = new Messages({
    limits,
    names,
    rooms,
    out,
    hidePrivateText: false,
    log,
    silenced: (c, outcome) => ops.silenced(c, outcome),
    rewrite: () => undefined,
    notStored: () => {},
  });
  const prompts = new PromptMachine({
    limits,
    out,
    password: undefined,
    log,
    logError: () => {},
    who: (c) => c.name ?? "",
    reclaim: () => {},
    handle: () => {},
    command: () => {},
    rename: () => {},
    back: () => {},
    admitted: () => {},
    disconnect,
    failed: () => {},
  });
  const naming = new Naming({
    limits,
    names,
    rooms,
    moderation,
    accounts: store,
    out,
    prompts,
    motd: () => ops.motd,
    log,
    storeFailed: () => {},
    joined: () => {},
    renamed: () => {},
    evict: () => {},
    disconnect,
  });
  const record = handlers({
    limits,
    clients,
    names,
    rooms,
    store,
    out,
    ops,
    flood,
    messages,
    naming,
    prompts,
    opPassword: undefined,
    log,
    notStored: () => {},
    disconnect,
  });
  const join = (name: string) => {
    const c = new Client(new FakePeer(), limits, 0) as Fake;
    c.mode = "json";
    clients.add(c);
    naming.join(c, name, false);
    c.peer.events.length = 0;
    return c;
  };
  /** Runs a line typed by `c` as the hub would once it is a command. */
  const run = (c: Client, line: string) => {
    const input = parseInput(line);
    assert.equal(input.kind, "command", line);
    const cmd = (input as { command: Command }).command;
    (record[cmd.name] as Handler<typeof cmd.name>)(c, cmd as never);
  };
  return { record, did, join, run, rooms };
}

const said = (c: Fake) => c.peer.events.map((e) => e.code ? `${e.type} ${e.code}` : e.type);

Deno.test("handlers() has a handler for every command in the table", () => {
  const { record } = setup();
  assert.deepEqual(Object.keys(record).toSorted(), [...COMMAND_NAMES].toSorted());
});

Deno.test("handlers() answer the asker alone, as each command says", async (t) => {
  const cases: [string, string[]][] = [
    ["/help", ["help"]],
    ["/users", ["users"]],
    ["/rooms", ["rooms"]],
    ["/topic", ["topic"]],
    ["/whois ben", ["whois"]],
    ["/whois nobody", ["error unknown-user"]],
    ["/away lunch", ["system"]],
    ["/back", ["system"]],
    ["/ignore", ["system"]],
    ["/ignore ann", ["error usage"]],
    ["/unignore ben", ["error unknown-user"]],
    ["/reply hi", ["error unknown-user"]],
    ["/motd", ["system"]],
    ["/motd new text", ["error not-allowed"]],
    ["/pass secret", ["system"]],
    ["/op secret", ["error not-allowed"]],
    ["/register secret", ["error not-allowed"]],
    ["/unregister", ["error usage"]],
    ["/part #dev", ["error not-in-room"]],
    ["/join #lobby", ["system"]],
    ["/users #nowhere", ["error room-invalid"]],
    ["/join #lobby", ["system"]],
    ["/join #", ["error room-invalid"]],
  ];
  for (const [line, got] of cases) {
    await t.step(line, () => {
      const { join, run } = setup();
      const ann = join("ann");
      const ben = join("ben");
      ann.peer.events.length = 0;
      run(ann, line);
      assert.deepEqual(said(ann), got);
      assert.deepEqual(said(ben), []);
    });
  }
});

Deno.test("handlers() join adds a room, topic tells it, part falls back, quit says why", () => {
  const { join, run, did, rooms } = setup();
  const ann = join("ann");
  const ben = join("ben");
  ann.peer.events.length = 0;
  run(ann, "/join #dev");
  assert.equal(ann.room?.name, "#dev");
  assert.ok(rooms.lobby.members.has(ann), "still in #lobby");
  assert.deepEqual(said(ben), [], "#lobby is not told of a join elsewhere");
  run(ann, "/topic shipping friday");
  assert.equal(rooms.open("#dev")?.topic?.text, "shipping friday");
  assert.equal(ann.peer.events.at(-1)?.type, "topic");
  assert.deepEqual(said(ben), []);
  run(ann, "/leave");
  assert.equal(ann.room, rooms.lobby);
  assert.deepEqual(said(ben), []);
  run(ann, "/part see you");
  assert.equal(ann.room, undefined);
  assert.deepEqual(said(ben), ["leave"]);
  run(ann, "/say hello?");
  assert.equal(said(ann).at(-1), "error not-in-room");
  run(ben, "/quit see you");
  assert.ok(did.includes("disconnect ben quit: see you"));
  assert.equal(ben.peer.events.at(-1)?.type, "bye");
});
