// Rooms: each room's members, topic and shared history replay, the registry of rooms (#lobby
// always, others while they have members), and what a newcomer is replayed within its budget.
// Sending the replay and the notices is the hub's (through delivery.ts); keeping data, the store's.

import type { Client } from "./client.ts";
import { LOBBY, Outgoing } from "../../protocol/events.ts";
import type { Limits } from "../limits.ts";
import { nameKey } from "../../protocol/names.ts";
import type { ChatStore, StoredMessage } from "../store.ts";
import type { RoomEntry } from "../engine/engine.ts";

/** A room: its members and topic. A named client is in any number of rooms, up to a cap. */
export class Room {
  readonly members = new Set<Client>();
  topic: { text: string; by: string } | undefined;
  /** The history replay, encoded once and shared by everyone joining; dropped on change. */
  replay: Outgoing[] | undefined;
  /** The `ts` of the newest message; each new one gets a later `ts`, so `ts` orders them. */
  lastTs = 0;
  /** The key the room is stored and found under. */
  readonly key: string;
  /**
   * In a cluster, while the room's history is read from the engine after the room was made on
   * this node: events that came meanwhile, and members whose replay waits for it; `held`,
   * other changes that came meanwhile, each to run after the first `at` buffered events.
   */
  catchUp:
    | { buffered: RoomEntry[]; waiting: Client[]; held?: { at: number; run: () => void }[] }
    | undefined;
  /**
   * In a cluster, the id of the last event this node delivered (or read as history): an event
   * with an id not after it was delivered already.
   */
  lastId: string | undefined;
  /** In a cluster, its history could not be read when it was made (Redis was away). */
  historyUnread = false;

  constructor(readonly name: string) {
    this.key = nameKey(name);
  }
}

/** What a newcomer is replayed: the newest lines that fit, and how many older ones did not. */
export interface Replay {
  lines: Outgoing[];
  omitted: number;
}

/** All rooms by name key, with their membership, topics and history in memory. */
export class Rooms {
  readonly #rooms = new Map<string, Room>();
  readonly #store: ChatStore;
  readonly #limits: Pick<Limits, "maxRooms" | "historyLines">;
  readonly #storeFailed: (what: string, err: unknown) => void;
  readonly #emptied: () => void;
  readonly #opened: ((room: Room) => void) | undefined;
  /** The room everyone joins first; never forgotten. */
  readonly lobby: Room;

  /**
   * Rooms kept in `store`, at most `maxRooms` of them. `storeFailed` hears of a store failure
   * nobody is told of but the log (`what` failed: "reading the topic of #dev"); `emptied` is
   * called when a room left empty was forgotten (memory to reclaim); `opened` when a room
   * other than #lobby is made.
   */
  constructor(
    store: ChatStore,
    limits: Pick<Limits, "maxRooms" | "historyLines">,
    storeFailed: (what: string, err: unknown) => void,
    emptied: () => void,
    opened?: (room: Room) => void,
  ) {
    this.#store = store;
    this.#limits = limits;
    this.#storeFailed = storeFailed;
    this.#emptied = emptied;
    this.lobby = this.open(LOBBY)!;
    this.#opened = opened;
  }

  /** The room with name key `key`, if it exists. */
  get(key: string): Room | undefined {
    return this.#rooms.get(key);
  }

  /** Every room, #lobby first, then by name. */
  sorted(): Room[] {
    return [...this.#rooms.values()].sort((a, b) =>
      a === this.lobby ? -1 : b === this.lobby ? 1 : a.name.localeCompare(b.name)
    );
  }

  /**
   * The room named `name`, made if it does not exist (with its topic from the store), or
   * undefined when `maxRooms` rooms exist already.
   */
  open(name: string): Room | undefined {
    const key = nameKey(name);
    let room = this.#rooms.get(key);
    if (room) return room;
    if (this.#rooms.size >= this.#limits.maxRooms) return undefined;
    this.#rooms.set(key, room = new Room(name));
    try {
      const t = this.#store.topic(key);
      if (t) room.topic = { text: t.topic, by: t.by };
    } catch (err) {
      this.#storeFailed(`reading the topic of ${name}`, err);
    }
    this.#opened?.(room);
    return room;
  }

  /** Puts a named client in a room, which becomes its active one. */
  enter(client: Client, room: Room): void {
    room.members.add(client);
    // Most users are in one room: an array of one, not one grown for seventeen by push.
    if (client.rooms.length === 0) client.rooms = [room];
    else client.rooms.push(room);
    client.room = room;
  }

  /** Marks `room` (one the client is in) as the one it used last, and with `active` its active one. */
  use(client: Client, room: Room, active = false): void {
    if (active) client.room = room;
    const rooms = client.rooms;
    if (rooms.at(-1) === room) return;
    const i = rooms.indexOf(room);
    if (i >= 0) rooms.push(...rooms.splice(i, 1));
  }

  /** The room named `name` if the client is in it. */
  of(client: Client, name: string): Room | undefined {
    const key = nameKey(name);
    return client.rooms.find((r) => r.key === key);
  }

  /**
   * Takes a client out of a room; when it was the active one, the room it used last is active
   * now (none when it was the last). A room left empty is forgotten (not #lobby), with what
   * is kept of it in memory; with --data its topic and history stay on disk for its return.
   */
  leave(client: Client, room: Room): void {
    room.members.delete(client);
    const i = client.rooms.indexOf(room);
    if (i >= 0) client.rooms.splice(i, 1);
    if (client.room === room) client.room = client.rooms.at(-1);
    // Everything in the room so far was delivered: a return replays only what is newer.
    client.seen.delete(room.key);
    if (room.lastTs > 0) client.seen.set(room.key, room.lastTs);
    if (client.seen.size > this.#limits.maxRooms) {
      client.seen.delete(client.seen.keys().next().value!);
    }
    if (room.members.size === 0 && room !== this.lobby) {
      this.#rooms.delete(room.key);
      // Its history and topic may be big: collect them once room churn settles.
      this.#emptied();
      try {
        this.#store.forget(room.key);
      } catch (err) {
        this.#storeFailed(`forgetting ${room.name}`, err);
      }
    }
  }

  /**
   * Stores a message said in a room and adds it to the shared replay; returns its `ts`, later
   * than the room's last so a replay can tell what a client has seen. Throws what the store
   * throws, and then nothing changed.
   */
  say(room: Room, kind: StoredMessage["kind"], from: string, text: string, now: number): number {
    const ts = Math.max(now, room.lastTs + 1);
    this.#store.append({ room: room.key, kind, from, text, ts });
    room.lastTs = ts;
    if (room.replay) {
      room.replay.push(
        new Outgoing({ type: kind, ts, from, room: room.name, text, history: true }),
      );
      if (room.replay.length > this.#limits.historyLines) room.replay.shift();
    }
    return ts;
  }

  /** Sets or (with `text` undefined) removes a room's topic; throws what the store throws. */
  setTopic(room: Room, text: string | undefined, by: string, ts: number): void {
    if (text === undefined) this.#store.removeTopic(room.key);
    else this.#store.setTopic({ room: room.key, topic: text, by, ts });
    room.topic = text === undefined ? undefined : { text, by };
  }

  /**
   * Forgets a room's history, topic or both, in the store and in memory; throws what the
   * store throws. Returns the room if it exists, and whether it lost a topic.
   */
  purge(key: string, what: "history" | "topic" | "all"): { room?: Room; hadTopic: boolean } {
    const room = this.#rooms.get(key);
    if (what !== "topic") this.#store.clearHistory(key);
    if (what !== "history") this.#store.removeTopic(key);
    if (room && what !== "topic") room.replay = undefined;
    const hadTopic = room?.topic !== undefined;
    if (room && what !== "history") room.topic = undefined;
    return { room, hadTopic };
  }

  /** Drops stored history past its retention (bounded work); a store failure is only logged. */
  prune(now: number): void {
    try {
      this.#store.prune(now);
    } catch (err) {
      this.#storeFailed("pruning history", err);
    }
  }

  /**
   * What to replay to `client` joining `room`: the newest history lines it has not seen
   * (lines it saw before leaving are not sent again), without senders it ignores, whose
   * sizes in its output mode fit `budget`. The encoded lines are made once per room and
   * shared. Throws what the store throws.
   */
  replay(client: Client, room: Room, budget: number): Replay {
    let lines = room.replay;
    if (!lines) {
      lines = this.#store.recent(room.key, this.#limits.historyLines).map((m) =>
        new Outgoing({
          type: m.kind,
          ts: m.ts,
          from: m.from,
          room: room.name,
          text: m.text,
          history: true,
        })
      );
      room.replay = lines;
      room.lastTs = Math.max(room.lastTs, lines.at(-1)?.event.ts ?? 0);
    }
    const seen = client.seen.get(room.key) ?? -Infinity;
    client.seen.delete(room.key);
    let start = lines.length;
    while (start > 0 && lines[start - 1].event.ts > seen) start--;
    const shown = (out: Outgoing) =>
      !client.ignored?.has(nameKey((out.event as { from: string }).from));
    let first = lines.length;
    while (first > start) {
      const out = lines[first - 1];
      if (shown(out)) {
        const size = out.bytes(client.mode).length;
        if (size > budget) break;
        budget -= size;
      }
      first--;
    }
    return { lines: lines.slice(first).filter(shown), omitted: first - start };
  }
}
