// Property-based test (fast-check) of several rooms at once, over the real Hub with fake peers
// (no sockets): whatever users join, part, say, rename and quit, in any order, what each one
// was told adds up to what the server holds, and nothing crosses into a room it was not in.

import fc from "fast-check";
import assert from "node:assert/strict";
import type { ServerEvent } from "../lib/protocol/events.ts";
import { nameKey } from "../lib/protocol/names.ts";
import { type Client, Hub } from "../lib/server/hub.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";
import { JsonPeer } from "./hub_fakes.ts";

/** Keeps JSON events; the welcome, written before `/proto json`, is not JSON and is dropped. */
class Peer extends JsonPeer {
  override write(bytes: Uint8Array, reply = false): void {
    if (bytes[0] === 0x7b) super.write(bytes, reply);
  }
}

const ROOMS = ["#lobby", "#a", "#b", "#c"];

type Op =
  | { op: "join" | "part" | "msg"; who: number; room: number }
  | { op: "say" | "partActive" | "nick" | "quit" | "users"; who: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constantFrom("join", "part", "msg"),
    who: fc.nat(4),
    room: fc.nat(ROOMS.length - 1),
  }) as fc.Arbitrary<Op>,
  fc.record({
    op: fc.constantFrom("say", "partActive", "nick", "quit", "users"),
    who: fc.nat(4),
  }) as fc.Arbitrary<Op>,
);

/** One user as it knows itself from what it was told. */
interface Seat {
  client: Client;
  peer: Peer;
  name: string;
  /** Rooms it was told it is in (name keys), and its active one. */
  rooms: Set<string>;
  active: string | undefined;
  /** How many events it had handled. */
  read: number;
}

Deno.test("several rooms: what each user is told matches the server, and nothing leaks", () => {
  let serial = 0;
  fc.assert(
    fc.property(fc.array(op, { minLength: 1, maxLength: 60 }), (ops) => {
      const limits = { ...DEFAULT_LIMITS, ratePerSecond: 0, maxRoomsPerUser: 3 };
      const hub = new Hub({ limits, version: "t" });
      const seats: (Seat | undefined)[] = [];
      const seat = (i: number): Seat => {
        const old = seats[i];
        if (old && !old.client.closing) return old;
        const peer = new Peer(`192.0.2.${i + 1}:5000`);
        const client = hub.connect(peer);
        const name = `u${i}x${serial++}`;
        hub.input(client, "/proto json");
        hub.input(client, name);
        const fresh = {
          client,
          peer,
          name,
          rooms: new Set([nameKey("#lobby")]),
          active: "#lobby",
          read: 0,
        };
        return seats[i] = fresh;
      };
      /** Follows what a seat was told since last time, checking each room line it got. */
      const follow = (s: Seat) => {
        for (const e of s.peer.events.slice(s.read) as ServerEvent[]) {
          if (e.type === "room") {
            s.rooms.add(nameKey(e.room));
            s.active = e.room;
          } else if (e.type === "leave" && e.name === s.name) {
            s.rooms.delete(nameKey(e.room));
            if (s.active !== undefined && nameKey(s.active) === nameKey(e.room)) {
              s.active = undefined;
            }
          } else if (e.type === "named") {
            s.name = e.name;
          } else if (
            e.type === "message" || e.type === "action" || e.type === "join" ||
            (e.type === "leave" && e.name !== s.name)
          ) {
            assert.ok(s.rooms.has(nameKey(e.room)), `${s.name} got a line of ${e.room}`);
          }
        }
        s.read = s.peer.events.length;
      };
      for (const step of ops) {
        const s = seat(step.who);
        const room = "room" in step ? ROOMS[step.room] : "";
        const before = seats.map((x) => x?.peer.events.length ?? 0);
        switch (step.op) {
          case "join":
            hub.input(s.client, `/join ${room}`);
            break;
          case "part":
            hub.input(s.client, `/part ${room} bye`);
            break;
          case "msg":
            hub.input(s.client, `/msg ${room} hi`);
            break;
          case "say":
            hub.input(s.client, "hello");
            break;
          case "partActive":
            hub.input(s.client, "/part");
            break;
          case "nick":
            hub.input(s.client, `/nick ${s.name}n`);
            break;
          case "users":
            hub.input(s.client, "/users");
            break;
          case "quit":
            hub.input(s.client, "/quit");
            hub.disconnect(s.client, "quit");
            break;
        }
        for (const x of seats) if (x) follow(x);
        // However many rooms a viewer shared, one quit or rename notice each.
        for (const [i, x] of seats.entries()) {
          if (!x) continue;
          const fresh = x.peer.events.slice(before[i] ?? 0) as ServerEvent[];
          assert.ok(fresh.filter((e) => e.type === "quit").length <= 1);
          assert.ok(fresh.filter((e) => e.type === "rename").length <= 1);
        }
      }
      // Every live user's picture of its rooms is the server's (/rooms marks them).
      for (const s of seats) {
        if (!s || s.client.closing) continue;
        hub.input(s.client, "/rooms");
        const list = s.peer.events.at(-1) as Extract<ServerEvent, { type: "rooms" }>;
        assert.equal(list.type, "rooms");
        const joined = list.rooms.filter((r) => r.joined).map((r) => nameKey(r.name)).sort();
        assert.deepEqual(joined, [...s.rooms].sort(), s.name);
        assert.equal(list.rooms.find((r) => r.active)?.name, s.active, s.name);
        assert.ok(joined.length <= limits.maxRoomsPerUser);
        // An empty room other than #lobby is forgotten.
        assert.ok(list.rooms.every((r) => r.members > 0 || r.name === "#lobby"));
      }
    }),
    { numRuns: 300 },
  );
});
