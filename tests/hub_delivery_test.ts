// Delivery over plain data: fake peers record what they are sent, no sockets.

import assert from "node:assert/strict";
import { Client } from "../lib/server/hub.ts";
import { Delivery, fitting } from "../lib/server/hub/delivery.ts";
import { Outgoing, type ServerEvent } from "../lib/protocol/events.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";
import { nameKey } from "../lib/protocol/names.ts";
import type { Room } from "../lib/server/hub/rooms.ts";
import { JsonPeer } from "./hub_fakes.ts";

class FakePeer extends JsonPeer<ServerEvent & { id?: number }> {}

function client(name?: string): Client & { peer: FakePeer } {
  const c = new Client(new FakePeer(), DEFAULT_LIMITS, 0) as Client & { peer: FakePeer };
  c.name = name;
  c.mode = "json";
  return c;
}

/** A room of `members` (each told it is in it), as Delivery reads rooms. */
function fakeRoom(name: string, members: Iterable<Client>): Room {
  const room = { name, members: new Set<Client>(members) } as unknown as Room;
  for (const c of room.members) c.rooms.push(room);
  return room;
}

function setup(announceUpTo: number, names: string[]) {
  const named = new Map<string, Client & { peer: FakePeer }>();
  for (const n of names) named.set(nameKey(n), client(n));
  const room = fakeRoom("#lobby", named.values());
  for (const c of named.values()) c.room = room;
  return { out: new Delivery(announceUpTo, named), named, room };
}

const types = (c: Client & { peer: FakePeer }) => c.peer.events.map((e) => e.type);

Deno.test("Delivery.send() replies to one client, with the id of the request it answers", () => {
  const { out, named } = setup(0, ["ann"]);
  const ann = named.get("ann")!;
  out.send(ann, { type: "system", ts: 1, text: "a" });
  ann.request = { id: 7, answered: false };
  out.error(ann, "usage", "b");
  assert.deepEqual(ann.peer.events.map((e) => e.id), [undefined, 7]);
  assert.deepEqual(ann.peer.replies, [true, true]);
  assert.equal(ann.request.answered, true);
});

Deno.test("Delivery.write() skips a closing client; bye() closes after its last line", () => {
  const { out, named } = setup(0, ["ann"]);
  const ann = named.get("ann")!;
  out.bye(ann, "goodbye");
  out.system(ann, "too late");
  assert.deepEqual(types(ann), ["bye"]);
  assert.equal(ann.peer.closed, "goodbye");
});

Deno.test("Delivery.broadcast() reaches every named client but the one excepted", () => {
  const { out, named } = setup(0, ["ann", "ben", "cat"]);
  out.broadcast({ type: "announce", ts: 1, from: "server", text: "hi" }, named.get("ben"));
  assert.deepEqual([...named.values()].map((c) => c.peer.events.length), [1, 0, 1]);
  assert.deepEqual([...named.values()].map((c) => c.peer.replies[0]), [false, undefined, false]);
});

Deno.test("Delivery.toRoom() skips those who ignore the sender of a message or action", async (t) => {
  const cases: { event: ServerEvent; heard: number[] }[] = [
    { event: { type: "message", ts: 1, from: "ann", room: "#lobby", text: "x" }, heard: [0, 1, 0] },
    { event: { type: "action", ts: 1, from: "Ann", room: "#lobby", text: "x" }, heard: [0, 1, 0] },
    { event: { type: "topic", ts: 1, room: "#lobby", by: "ann", changed: true }, heard: [0, 1, 1] },
  ];
  for (const { event, heard } of cases) {
    await t.step(event.type, () => {
      const { out, named, room } = setup(0, ["ann", "ben", "cat"]);
      named.get("cat")!.ignored = new Set(["ann"]);
      out.toRoom(room, event, named.get("ann"));
      assert.deepEqual([...named.values()].map((c) => c.peer.events.length), heard);
    });
  }
});

Deno.test("Delivery.roomNotice() is quiet in a room bigger than announceUpTo", async (t) => {
  // Three members now; a leave counts the one who left.
  const cases = [
    { max: 0, type: "join", heard: true },
    { max: 3, type: "join", heard: true },
    { max: 2, type: "join", heard: false },
    { max: 4, type: "leave", heard: true },
    { max: 3, type: "leave", heard: false },
  ] as const;
  for (const { max, type, heard } of cases) {
    await t.step(`${type} with announceUpTo ${max}`, () => {
      const { out, named, room } = setup(max, ["ann", "ben", "cat"]);
      const event = type === "join"
        ? { type, ts: 1, name: "cat", room: "#lobby", count: 3, members: 3 }
        : { type, ts: 1, name: "dan", room: "#lobby", count: 3, members: 3 };
      out.roomNotice(room, event, named.get("cat"));
      assert.equal(named.get("ann")!.peer.events.length, heard ? 1 : 0);
      assert.equal(named.get("cat")!.peer.events.length, 0);
    });
  }
});

Deno.test("Delivery.renameNotice() tells the room and private partners once each", () => {
  const { out, named, room } = setup(0, ["ann", "ben"]);
  const cat = client("cat");
  const dan = client("dan");
  named.set("cat", cat).set("dan", dan);
  const ann = named.get("ann")!;
  ann.lastPmFrom = "cat"; // ann's partner, in another room
  dan.lastPmFrom = "ann"; // wrote to ann last
  named.get("ben")!.lastPmFrom = "ann"; // in the room too: told once
  out.renameNotice(ann, "ann", "anna");
  assert.deepEqual([...named.values()].map((c) => c.peer.events.length), [0, 1, 1, 1]);
  assert.equal(room.members.size, 2);
});

Deno.test("Delivery.renameNotice() leaves a crowded room out but not private partners", () => {
  const { out, named } = setup(1, ["ann", "ben"]);
  named.get("ben")!.lastPmFrom = "ann";
  const cat = client("cat");
  named.set("cat", cat);
  out.renameNotice(named.get("ann")!, "ann", "anna");
  assert.deepEqual([...named.values()].map((c) => c.peer.events.length), [0, 1, 0]);
});

Deno.test("Delivery.quitNotice() and renameNotice() tell each roommate once, however many rooms", async (t) => {
  for (const kind of ["quit", "rename"] as const) {
    await t.step(kind, () => {
      // ann shares #lobby and #dev with ben, #lobby with cat; #big is over announceUpTo.
      const { out, named, room: lobby } = setup(3, ["ann", "ben", "cat"]);
      const [ann, ben] = named.values();
      const dan = client("dan");
      const eve = client("eve");
      const fay = client("fay");
      named.set("dan", dan).set("eve", eve).set("fay", fay);
      fakeRoom("#dev", [ann, ben]);
      fakeRoom("#big", [ann, dan, eve, fay]);
      if (kind === "quit") out.quitNotice(ann, { type: "quit", ts: 1, name: "ann", count: 5 });
      else out.renameNotice(ann, "ann", "anna");
      assert.deepEqual(
        [...named.values()].map((c) => c.peer.events.length),
        [0, 1, 1, 0, 0, 0],
        "ben once for two rooms; #big too big to tell",
      );
      assert.equal(lobby.members.size, 3);
    });
  }
});

Deno.test("Delivery.write() marks a room's line in text for a viewer whose active room is another", () => {
  const { out, named, room: lobby } = setup(0, ["ann", "ben"]);
  const [ann, ben] = named.values();
  for (const c of [ann, ben]) c.mode = "text";
  ann.room = fakeRoom("#dev", [ann]);
  const bob = client("bob");
  bob.room = ann.room; // JSON: never marked, the room is a field
  const lines: string[] = [];
  for (const c of [ann, ben, bob]) c.peer.write = (b) => lines.push(new TextDecoder().decode(b));
  const said = new Outgoing({ type: "message", ts: 1, from: "cat", room: "#lobby", text: "hi" });
  for (const c of [ann, ben, bob]) out.write(c, said);
  assert.deepEqual(lines.slice(0, 2), ["[#lobby] cat: hi\r\n", "cat: hi\r\n"]);
  assert.equal(JSON.parse(lines[2]).room, "#lobby");
  assert.equal(lobby.members.size, 2);
});

Deno.test("fitting() keeps the first items within the budget", async (t) => {
  const cases: [number[], number, number[]][] = [
    [[1, 2, 3], 6, [1, 2, 3]],
    [[1, 2, 3], 5, [1, 2]],
    [[1, 2, 3], 0, []],
    [[], 10, []],
  ];
  for (const [list, budget, kept] of cases) {
    await t.step(`[${list}] in ${budget}`, () => {
      assert.deepEqual(fitting(list, budget, (n) => n), kept);
    });
  }
});
