// Operator commands over plain data: the hub's parts with a memory store and fake peers, no
// sockets. Console actors reply to the log; client actors get system or error lines.

import assert from "node:assert/strict";
import { type CommandOf, parseInput } from "../lib/protocol/commands.ts";
import type { ServerEvent } from "../lib/protocol/events.ts";
import { Client } from "../lib/server/hub.ts";
import { Delivery } from "../lib/server/hub/delivery.ts";
import { Directory } from "../lib/server/hub/directory.ts";
import { type Actor, addressOf, covers, Operators } from "../lib/server/hub/operators.ts";
import { Rooms } from "../lib/server/hub/rooms.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";
import { Moderation, parseTarget, type SanctionTarget } from "../lib/server/moderation.ts";
import { MemoryStore } from "../lib/server/store.ts";
import { JsonPeer } from "./hub_fakes.ts";

class FakePeer extends JsonPeer<ServerEvent> {}

type Fake = Client & { peer: FakePeer };

const texts = (c: Fake) => c.peer.events.map((e) => "text" in e ? e.text : e.type);

function setup() {
  const limits = DEFAULT_LIMITS;
  const store = new MemoryStore(limits.historyLines, limits);
  const clients = new Set<Client>();
  const names = new Directory();
  const rooms = new Rooms(store, limits, () => {}, () => {});
  const out = new Delivery(limits.announceUpTo, names.byKey);
  const log: string[] = [];
  const gone: string[] = [];
  const disconnect = (c: Client, reason?: string) => {
    if (!clients.delete(c)) return;
    if (c.name !== undefined) names.remove(c.name);
    gone.push(`${c.name} (${reason})`);
  };
  const ops = new Operators({
    limits,
    clients,
    names,
    rooms,
    moderation: new Moderation(store),
    out,
    log: (line) => log.push(line),
    storeFailed: (err) => log.push(`store failed: ${err}`),
    kick: (name, reason, by) => {
      const c = names.get(name);
      if (!c) return false;
      out.bye(c, `kicked by ${by}${reason ? `: ${reason}` : ""}`);
      disconnect(c, "kicked");
      return true;
    },
    disconnect,
  }, undefined);
  const join = (name: string, address = "192.0.2.1:5000"): Fake => {
    const c = new Client(new FakePeer(address), limits, 0) as Fake;
    c.name = name;
    c.mode = "json";
    clients.add(c);
    names.add(c);
    rooms.enter(c, rooms.lobby);
    return c;
  };
  const console: Actor = { name: "the server" };
  return { ops, rooms, log, gone, join, console };
}

function command<K extends "kick" | "ban" | "unban" | "banned" | "mute" | "unmute" | "purge">(
  line: string,
): CommandOf<K> {
  const input = parseInput(line);
  if (input.kind !== "command") throw new Error(`not a command: ${line}`);
  return input.command as CommandOf<K>;
}

Deno.test("covers() matches a name key, or an address inside a range", async (t) => {
  const c = new Client(new FakePeer("[::ffff:10.1.2.3]:4000"), DEFAULT_LIMITS, 0);
  c.name = "Ann";
  const cases: [string, boolean][] = [
    ["ann", true],
    ["ben", false],
    ["10.1.2.3", true],
    ["10.1.0.0/16", true],
    ["10.2.0.0/16", false],
    ["::1", false],
  ];
  for (const [target, covered] of cases) {
    await t.step(target, () => {
      const t = parseTarget(target) as SanctionTarget;
      assert.equal(covers(t, c), covered);
    });
  }
  assert.equal(addressOf(c), "10.1.2.3");
});

Deno.test("Operators.command() kick: the user goes, with the reason; an unknown name is an error", () => {
  const { ops, join, gone } = setup();
  const op = join("op");
  const ben = join("ben");
  ops.command({ name: "op", client: op }, command("/kick ben spam"));
  assert.deepEqual(gone, ["ben (kicked)"]);
  assert.notEqual(ben.peer.closed, undefined);
  ops.command({ name: "op", client: op }, command("/kick nobody"));
  assert.deepEqual(texts(op), ["kicked ben (spam)", "no user named nobody is online"]);
  assert.equal(op.peer.events.at(-1)!.type, "error");
});

Deno.test("Operators.command() ban: everyone covered goes but the operator who typed it", () => {
  const { ops, join, gone, log, console } = setup();
  const op = join("op", "10.0.0.1:1");
  join("ann", "10.0.0.2:1");
  join("ben", "10.0.0.3:1");
  join("cat", "10.9.0.1:1");
  ops.command({ name: "op", client: op }, command("/ban 10.0.0.0/24 1h spam"));
  assert.deepEqual(gone, ["ann (banned)", "ben (banned)"]);
  assert.match(texts(op)[0], /^banned 10\.0\.0\.0\/24 /);
  assert.ok(ops.bannedAddress("10.0.0.7", Date.now())?.includes("(spam)"));
  assert.equal(ops.bannedAddress("10.9.0.1", Date.now()), undefined);
  ops.command(console, command("/banned"));
  assert.deepEqual(log.filter((l) => l.startsWith("console:")).slice(0, 1), ["console: 1 banned:"]);
  ops.command(console, command("/unban 10.0.0.0/24"));
  ops.command(console, command("/unban 10.0.0.0/24"));
  assert.deepEqual(log.slice(-3), [
    "unban ip 10.0.0.0/24 by the server",
    "console: 10.0.0.0/24 is no longer banned",
    "console: 10.0.0.0/24 is not banned",
  ]);
});

Deno.test("Operators mute: the muted are told and silenced(), operators never; unmute lifts it", () => {
  const { ops, join, console } = setup();
  const ann = join("ann");
  const op = join("op");
  op.operator = true;
  ops.command(console, command("/mute ann 10m"));
  assert.match(texts(ann)[0], /^you are muted /);
  assert.equal(ops.silenced(ann, "nothing was sent"), true);
  assert.match(texts(ann)[1], /; nothing was sent$/);
  assert.equal(ops.muteOf(op), undefined);
  // The name mute keeps the address: a new name from there is muted too.
  const again = join("anna");
  assert.ok(ops.muteOf(again));
  ops.command(console, command("/unmute ann"));
  assert.equal(texts(ann).at(-1), "you may speak again");
  assert.equal(ops.muteOf(again), undefined);
});

Deno.test("Operators.purge() forgets a room's topic and tells the room", () => {
  const { ops, join, rooms, log, console } = setup();
  const ann = join("ann");
  rooms.setTopic(rooms.lobby, "hello", "ann", 1);
  ops.purge(console, command("/purge #lobby topic"));
  assert.equal(rooms.lobby.topic, undefined);
  assert.equal(log.at(-1), "console: the topic of #lobby is gone");
  assert.deepEqual(ann.peer.events.map((e) => e.type), ["topic"]);
  ops.purge(console, command("/purge"));
  assert.equal(log.at(-1), "console: name the room: /purge #ROOM [history|topic]");
  ops.purge({ name: "ann", client: ann }, command("/purge"));
  assert.equal(texts(ann).at(-1), "the history and topic of #lobby are gone");
});

Deno.test("Operators.setMotd() sets the motd and says so to whoever set it", () => {
  const { ops, join, log, console } = setup();
  ops.setMotd(console, "be nice");
  assert.deepEqual(ops.motd, ["be nice"]);
  assert.deepEqual(log.slice(-2), [
    "motd set by the server: be nice",
    "console: the message of the day is set",
  ]);
  const op = join("op");
  ops.setMotd({ name: "op", client: op }, "be kind");
  assert.deepEqual(texts(op), ["the message of the day is set"]);
});
