// What a node does when Redis is back after being away: it claims its users' names again (a
// name another node took meanwhile is settled: the holder keeps it, this node's user becomes a
// guest, told why), rebuilds its users' rooms in Redis in one call (the other nodes hear what
// changed), reads who is where elsewhere again, and catches up each room's events from its
// stream after the last one it delivered. After Redis restarted empty (a new epoch) the local
// copies of room history are forgotten first, and the onNewEpoch listeners run last.

import type { Client } from "./client.ts";
import type { Cluster } from "./cluster.ts";
import type { Directory } from "./directory.ts";
import type { Naming } from "./naming.ts";
import type { Room, Rooms } from "./rooms.ts";
import type { RoomEntry, RoomEvent } from "../engine/engine.ts";
import { describe } from "./failures.ts";
import { nameKey } from "../../protocol/names.ts";

/** Guest names tried for a user whose name was taken meanwhile. */
const GUEST_TRIES = 50;

/** Reads of a room's stream in one catch-up, at most (a stream holds about --history lines). */
const CATCH_UP_READS = 100;

/** What the repair works with; the hub gives its own parts. */
export interface RepairContext {
  cluster: Cluster;
  names: Directory;
  rooms: Rooms;
  naming: Pick<Naming, "settled" | "replay">;
  /** Events a room's stream holds at most (what a catch-up reads). */
  historyLines: number;
  /** How long a silent node keeps its names (ms). */
  nodeTimeoutMs: number;
  /** Hands a room event to this node's members, as if Redis had delivered it. */
  deliver(roomKey: string, id: string, event: RoomEvent): void;
  /** Reads a room's history into this node's copy, as when the room is made here. */
  readHistory(room: Room): void;
  /** Forgets this node's copy of a room's history (Redis lost its own). */
  forget(room: Room): void;
  /** Says goodbye to a client with `why` and closes it. */
  bye(client: Client, why: string): void;
  log(line: string): void;
}

/** Registers this node's users again each time the engine is back. */
export class ClusterRepair {
  readonly #ctx: RepairContext;
  #running = false;
  /** Another repair asked for while one runs (true: after a new epoch). */
  #again: boolean | undefined;
  /** A new epoch whose listeners have not run yet (a repair failed before them). */
  #epochPending = false;
  #resyncLater: ReturnType<typeof setTimeout> | undefined;

  /** Starts listening for the engine's returns. */
  constructor(ctx: RepairContext) {
    this.#ctx = ctx;
    ctx.cluster.onRecover((fresh, reconnected) => this.run(fresh, reconnected));
  }

  /**
   * After a new epoch (`fresh`), forgets this node's copies of room history at once; after a
   * reconnection, starts catching up every room at once (events handed on from now are held
   * per room until its catch-up read is in). Then repairs names and rooms now, or after the
   * repair under way (once, however many times asked).
   */
  run(fresh: boolean, reconnected = true): void {
    const { rooms, log } = this.#ctx;
    if (fresh) {
      log(
        "engine: Redis lost its data (new epoch); this node registers its users again, " +
          "and room history starts again",
      );
      for (const room of rooms.sorted()) {
        this.#ctx.forget(room);
        room.lastId = undefined;
      }
      this.#epochPending = true;
    }
    if (reconnected) {
      for (const room of rooms.sorted()) this.#catchUp(room);
    }
    if (this.#running) {
      this.#again = (this.#again ?? false) || fresh;
      return;
    }
    this.#running = true;
    this.#repair(fresh).catch((err) =>
      this.#ctx.log(`engine: cannot register this node's users again: ${describe(err)}`)
    ).finally(() => {
      this.#running = false;
      const again = this.#again;
      this.#again = undefined;
      if (again !== undefined) this.run(again);
    });
  }

  /** Stops a pending read of who is where. */
  close(): void {
    clearTimeout(this.#resyncLater);
  }

  async #repair(fresh: boolean): Promise<void> {
    const { cluster, names, log } = this.#ctx;
    // Alive first: another node must not sweep the users this node is about to register.
    await cluster.renew();
    const users = [...names.values()].filter((c) => c.name !== undefined && !c.closing);
    const lost = new Set(
      await cluster.reclaim(users.map((c) => ({ key: nameKey(c.name!), name: c.name! }))),
    );
    for (const client of users) {
      if (lost.has(nameKey(client.name!))) await this.#settle(client);
    }
    const entries = [...names.values()].flatMap((c) =>
      c.closing ? [] : c.rooms.map((r) => ({
        room: r.name,
        name: c.name!,
        ...cluster.statusOf?.(c.name!),
      }))
    );
    await cluster.rebuild(entries);
    log(`engine: registered again: ${names.size} users, ${entries.length} in rooms`);
    if (fresh) {
      // The other nodes rebuild their rooms as they notice; who is still missing by then is gone.
      clearTimeout(this.#resyncLater);
      this.#resyncLater = setTimeout(() => {
        cluster.resync().catch((err) =>
          log(`engine: cannot read who is in rooms: ${describe(err)}`)
        );
      }, this.#ctx.nodeTimeoutMs);
      Deno.unrefTimer(this.#resyncLater);
    } else {
      await cluster.resync();
    }
    if (this.#epochPending) {
      this.#epochPending = false;
      cluster.newEpoch();
    }
  }

  /**
   * A user whose name another node holds now: renamed to a free guest name claimed for this
   * node, and told why; closed when no guest name can be had.
   */
  async #settle(client: Client): Promise<void> {
    const { cluster, names } = this.#ctx;
    const old = client.name!;
    for (let tries = 0; tries < GUEST_TRIES; tries++) {
      const name = names.freeGuestName();
      const claim = await cluster.claim(nameKey(name), name);
      if (claim === "failed") throw new Error("the cluster went away again");
      if (claim === "lost" || names.has(name)) continue;
      if (client.closing || client.name !== old) {
        cluster.release(nameKey(name));
        return;
      }
      this.#ctx.naming.settled(
        client,
        name,
        `the name ${old} was taken on another node while this one was cut off`,
      );
      return;
    }
    if (!client.closing && client.name === old) {
      this.#ctx.bye(client, `the name ${old} was taken on another node, and no guest name is free`);
    }
  }

  /**
   * Delivers what a room's stream holds after the last event this node delivered (what came
   * while its subscription was down); events arriving meanwhile wait and follow, none twice.
   */
  async #catchUp(room: Room): Promise<void> {
    const { cluster, rooms, historyLines } = this.#ctx;
    if (room.catchUp !== undefined || historyLines <= 0) return; // a history read delivers them
    if (room.historyUnread) {
      // Made while Redis was away: it has no last id to catch up from, so it reads its history.
      this.#ctx.readHistory(room);
      return;
    }
    const pending = room.catchUp = { buffered: [] as RoomEntry[], waiting: [] as Client[] };
    const entries: RoomEntry[] = [];
    try {
      for (let reads = 0; reads < CATCH_UP_READS; reads++) {
        const after = entries.at(-1)?.id ?? room.lastId;
        const page = await cluster.since(room.key, after, historyLines);
        entries.push(...page);
        if (page.length < historyLines) break;
      }
    } catch (err) {
      this.#ctx.log(`engine: cannot catch up ${room.name}: ${describe(err)}`);
    }
    room.catchUp = undefined;
    if (rooms.get(room.key) !== room) return;
    for (const c of pending.waiting) {
      if (!c.closing && room.members.has(c)) this.#ctx.naming.replay(c, room);
    }
    for (const { id, event } of [...entries, ...pending.buffered]) {
      this.#ctx.deliver(room.key, id, event);
    }
  }
}
