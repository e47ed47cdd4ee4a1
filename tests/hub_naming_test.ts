// Naming and joining over plain data: the hub's parts with a memory store, fake prompts that
// record what they were asked, and fake peers; no sockets.

import assert from "node:assert/strict";
import type { ServerEvent } from "../lib/protocol/events.ts";
import { Client } from "../lib/server/hub/client.ts";
import { Delivery } from "../lib/server/hub/delivery.ts";
import { Directory } from "../lib/server/hub/directory.ts";
import { Naming, type NamingContext } from "../lib/server/hub/naming.ts";
import { remember } from "../lib/server/hub/prompts.ts";
import { Rooms } from "../lib/server/hub/rooms.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";
import { Moderation } from "../lib/server/moderation.ts";
import { MemoryStore } from "../lib/server/store.ts";
import { JsonPeer } from "./hub_fakes.ts";

type Event = ServerEvent & {
  code?: string;
  name?: string;
  text?: string;
  lines?: string[];
  names?: string[];
  switched?: true;
  reason?: string;
};

class FakePeer extends JsonPeer<Event> {
  /** What the connection was told of its rooms (active, then all). */
  readonly told: string[] = [];

  rooms(active: string | undefined, joined: readonly string[]): void {
    this.told.push(`${active ?? "-"} ${joined.join(",")}`);
  }
}

type Fake = Client & { peer: FakePeer };

function setup(motd?: string[], right?: boolean) {
  const limits = { ...DEFAULT_LIMITS, maxNameLength: 16 };
  const names = new Directory();
  const store = new MemoryStore(limits.historyLines, limits);
  const rooms = new Rooms(store, limits, () => {}, () => {});
  const moderation = new Moderation(store);
  const did: string[] = [];
  const ctx: NamingContext = {
    limits,
    names,
    rooms,
    moderation,
    accounts: store,
    out: new Delivery(0, names.byKey),
    prompts: {
      askName: () => did.push("askName"),
      askPassword: () => did.push("askPassword"),
      guess: (_c, secret, _what, _check, then) => {
        did.push(`guess ${secret}`);
        if (right !== undefined) then(right);
      },
      hash: () => undefined,
      answering: (_c, _id, fn) => fn(),
      release: () => {},
    },
    motd: () => motd,
    log: (line) => did.push(`log ${line}`),
    storeFailed: (what) => did.push(`storeFailed ${what}`),
    joined: (info) => did.push(`joined ${info.name}`),
    renamed: (info) => did.push(`renamed ${info.from} ${info.to}`),
    evict: (holder, why) => {
      did.push(`evict ${holder.name}: ${why}`);
      names.remove(holder.name!);
    },
    disconnect: (c, reason) => did.push(`disconnect ${c.name}: ${reason}`),
  };
  const client = () => {
    const c = new Client(new FakePeer(), limits, 0) as Fake;
    c.mode = "json";
    return c;
  };
  return { naming: new Naming(ctx), did, client, store, rooms, moderation };
}

const types = (c: Fake) => c.peer.events.map((e) => e.type);

Deno.test("Naming.rename() refuses a name for each reason, and goes back", async (t) => {
  const cases: [string, string, string][] = [
    ["invalid", "a b", "name-invalid"],
    ["too long", "a".repeat(17), "name-invalid"],
    ["taken, any case", "ANN", "name-taken"],
    ["banned", "bob", "name-banned"],
    ["a secret typed here", "hunter2", "looks-like-password"],
    ["a look-alike of a registered name", "reg1", "name-taken"],
  ];
  for (const [what, name, code] of cases) {
    await t.step(what, () => {
      const { naming, did, client, store, moderation } = setup();
      naming.join(client(), "ann", false);
      moderation.ban({ kind: "name", target: "bob", by: "op", ts: 0 });
      store.setAccount({ key: "regl", name: "regl", hash: "x", ts: 0 });
      const c = client();
      remember(c, "hunter2");
      did.length = 0;
      naming.rename(c, name);
      assert.deepEqual(c.peer.events.map((e) => e.code), [code]);
      assert.equal(c.name, undefined);
      assert.deepEqual(c.prompt, { for: "name" });
      assert.deepEqual(did, ["askName"]);
    });
  }
});

Deno.test("Naming.rename() of a registered name asks for its password or guesses it", () => {
  const { naming, did, client, store } = setup();
  store.setAccount({ key: "reg", name: "Reg", hash: "x", ts: 0 });
  const c = client();
  naming.rename(c, "reg");
  assert.deepEqual(c.peer.events.map((e) => e.code), ["name-registered"]);
  assert.deepEqual(c.prompt, { for: "password", about: "name", name: "reg" });
  assert.deepEqual(did, ["askPassword"]);
  did.length = 0;
  naming.rename(c, "reg", "secret");
  assert.deepEqual(did, ["guess name:reg"]);
  assert.equal(c.name, undefined);
});

Deno.test("Naming.rename() takes a registered name over from its holder with the password", () => {
  const { naming, did, client, store } = setup(undefined, true);
  store.setAccount({ key: "reg", name: "reg", hash: "x", ts: 0 });
  const old = client();
  naming.join(old, "reg", false);
  const c = client();
  did.length = 0;
  naming.rename(c, "REG");
  assert.deepEqual(c.peer.events.map((e) => e.code), ["name-registered"]);
  assert.match(c.peer.events[0].text!, /in use: its password takes it over/);
  assert.deepEqual(did, ["askPassword"]);
  did.length = 0;
  naming.rename(c, "reg", "secret");
  assert.equal(did[0], "guess name:reg");
  assert.ok(
    did.includes("evict reg: reg was taken over with its password from elsewhere"),
    did.join("; "),
  );
  assert.equal(c.name, "reg");
});

Deno.test("Naming.rename() of an unregistered name in use is refused, no password asked", () => {
  const { naming, did, client } = setup(undefined, true);
  naming.join(client(), "ann", false);
  const c = client();
  did.length = 0;
  naming.rename(c, "ann", "secret");
  assert.deepEqual(c.peer.events.map((e) => e.code), ["name-taken"]);
  assert.deepEqual(did, ["askName"]);
});

Deno.test("Naming.join() names a client into the lobby with motd, topic and history", () => {
  const { naming, did, client, rooms } = setup(["hello all"]);
  const ann = client();
  naming.join(ann, "ann", false);
  rooms.say(rooms.lobby, "message", "ann", "hi", 1);
  rooms.setTopic(rooms.lobby, "news", "ann", 2);
  const ben = client();
  naming.join(ben, "ben", true);
  assert.equal(ben.room, rooms.lobby);
  assert.deepEqual(types(ben), ["named", "motd", "topic", "message", "history-end"]);
  assert.deepEqual(types(ann).slice(-1), ["join"]);
  assert.ok(did.includes("joined ben"));
  assert.equal(ben.prompt.for, "name"); // join names; the prompt is the caller's
});

Deno.test("Naming.rename() renames, tells the room, and says when nothing changes", () => {
  const { naming, did, client } = setup();
  const ann = client();
  const ben = client();
  naming.join(ann, "ann", false);
  naming.join(ben, "ben", false);
  ann.peer.events.length = 0;
  ben.peer.events.length = 0;
  naming.rename(ann, "anna");
  assert.equal(ann.name, "anna");
  assert.deepEqual(ann.prompt, { for: "ready" });
  assert.deepEqual(types(ann), ["named"]);
  assert.deepEqual(types(ben), ["rename"]);
  assert.ok(did.includes("renamed ann anna"));
  naming.rename(ann, "anna");
  assert.equal(ann.peer.events.at(-1)?.text, "you are already anna");
});

Deno.test("Naming.back() asks a nameless client for a name, a named one back to chat", () => {
  const { naming, did, client } = setup();
  const c = client();
  naming.back(c);
  assert.deepEqual(did, ["askName"]);
  naming.join(c, "ann", false);
  c.prompt = { for: "password", about: "name", name: "reg" };
  c.peer.events.length = 0;
  naming.back(c);
  assert.deepEqual(c.prompt, { for: "ready" });
  assert.deepEqual(types(c), ["prompt"]);
  naming.back(c); // ready already: nothing said
  assert.deepEqual(types(c), ["prompt"]);
});

Deno.test("Naming.enter() joins another room keeping the first, telling it, with names", () => {
  const { naming, client, rooms } = setup();
  const ann = client();
  const ben = client();
  const cat = client();
  for (const [c, n] of [[ann, "ann"], [ben, "ben"], [cat, "cat"]] as const) {
    naming.join(c, n, false);
  }
  const dev = rooms.open("#dev")!;
  naming.enter(cat, dev);
  for (const c of [ann, ben, cat]) c.peer.events.length = 0;
  naming.enter(ann, dev);
  assert.equal(ann.room, dev);
  assert.deepEqual(ann.rooms, [rooms.lobby, dev]);
  assert.ok(rooms.lobby.members.has(ann), "still in the lobby");
  assert.deepEqual(types(ben), [], "the lobby is not told");
  assert.deepEqual(types(cat), ["join"]);
  const room = ann.peer.events.find((e) => e.type === "room");
  assert.deepEqual(room?.names?.toSorted(), ["ann", "cat"]);
  assert.equal(room?.switched, undefined);
});

Deno.test("Naming.activate() switches rooms without a replay; part() falls back to the last used", () => {
  const { naming, client, rooms } = setup();
  const ann = client();
  const ben = client();
  naming.join(ann, "ann", false);
  naming.join(ben, "ben", false);
  const dev = rooms.open("#dev")!;
  const ops = rooms.open("#ops")!;
  naming.enter(ann, dev);
  naming.enter(ann, ops);
  naming.activate(ann, rooms.lobby);
  naming.activate(ann, dev);
  ann.peer.events.length = 0;
  ben.peer.events.length = 0;
  naming.activate(ann, ops);
  assert.deepEqual(types(ann), ["room"], "no replay, no history-end");
  assert.equal(ann.peer.events[0].switched, true);
  assert.deepEqual(types(ben), []);
  ann.peer.events.length = 0;
  naming.part(ann, ops, "bye");
  // #dev was used after the lobby: it is active now.
  assert.equal(ann.room, dev);
  assert.deepEqual(types(ann), ["leave", "room"]);
  assert.equal(ann.peer.events[0].reason, "bye");
  assert.equal(rooms.get(ops.key), undefined, "an empty room is forgotten");
  naming.part(ann, dev);
  naming.part(ann, rooms.lobby);
  assert.equal(ann.room, undefined);
  assert.deepEqual(ann.rooms, []);
  assert.deepEqual(types(ben), ["leave"], "ben saw ann leave the lobby only");
  assert.deepEqual(types(ann).slice(-2), ["leave", "system"], "told how to join one");
});

Deno.test("Naming tells the connection its rooms at each join, switch and part (Peer.rooms)", () => {
  const { naming, client, rooms } = setup();
  const ann = client();
  naming.join(ann, "ann", false);
  const dev = rooms.open("#dev")!;
  naming.enter(ann, dev);
  naming.activate(ann, rooms.lobby);
  naming.part(ann, rooms.lobby);
  naming.part(ann, dev);
  assert.deepEqual(ann.peer.told, [
    "#lobby #lobby",
    "#dev #lobby,#dev",
    "#lobby #dev,#lobby",
    "#dev #dev",
    "- ",
  ]);
});
