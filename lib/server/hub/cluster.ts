// The hub's side of a shared engine (Redis): names claimed across nodes before a client takes
// one, given back when it leaves or renames, kept alive by a heartbeat; names on other nodes for
// /users * and /whois; room messages handed to every node in one order, private ones to the
// nodes of their recipients; who is in which room on the other nodes, and the users of a node
// gone silent taken out of their rooms. Only made when the engine is shared: a single node never calls it.

import {
  type DirectEvent,
  type Engine,
  type HeldName,
  marksOf,
  type OrderEvent,
  type Presence,
  type PresenceEvent,
  type RoomEntry,
  type RoomEvent,
  type RoomListener,
  type SyncEntry,
  type UserStatus,
} from "../engine/engine.ts";
import { describe } from "./failures.ts";
import { nameKey } from "../../protocol/names.ts";
import { sanitizeLabel } from "../../protocol/sanitize.ts";

/**
 * How long rooms' history lasts in the engine: rooms whose last line is older than `retainMs`
 * (0: no limit) are forgotten, then the oldest past the `keepRooms` most recent.
 */
export interface Retention {
  retainMs: number;
  keepRooms: number;
}

/** A user on another node in one room, with its away and operator marks. */
export interface Remote extends UserStatus {
  name: string;
  node: string;
}

/** The users of other nodes in one room, by name key, and the room's name as typed there. */
interface RemoteRoom {
  name: string;
  members: Map<string, Remote>;
}

/** Names across nodes, through the engine. */
export class Cluster {
  readonly #engine: Engine;
  readonly #log: (line: string) => void;
  readonly #beat: ReturnType<typeof setInterval>;
  #beatFailed = false;
  /** The other nodes' users in rooms, by room key, as their presence changes told. */
  readonly #rooms = new Map<string, RemoteRoom>();
  /** How many rooms each user of another node is in, by `node\nname key`. */
  readonly #users = new Map<string, number>();
  #onPresence: ((event: PresenceEvent) => void) | undefined;
  readonly #retention: Retention;
  /** The marks of each user of another node in some room, by `node\nname key`. */
  readonly #marks = new Map<string, UserStatus>();
  /** Where tell() reads the marks of a user of this node (a join, rename or status change). */
  statusOf: ((name: string) => UserStatus) | undefined;
  readonly #onNewEpoch: (() => void)[] = [];

  /**
   * Starts the heartbeat: every third of the node timeout. With it, rooms' history in the
   * engine past `retention` is forgotten (every node asks; what one did, the others find done).
   */
  constructor(
    engine: Engine,
    nodeTimeoutMs: number,
    log: (line: string) => void,
    retention: Retention = { retainMs: 0, keepRooms: Number.MAX_SAFE_INTEGER },
  ) {
    this.#engine = engine;
    this.#log = log;
    this.#retention = retention;
    this.#beat = setInterval(() => this.#heartbeat(), Math.max(100, nodeTimeoutMs / 3));
    Deno.unrefTimer(this.#beat);
    engine.listenPresence((event) => {
      if (event.node === engine.node) return;
      this.#tellHere(event);
    }).catch((err) => log(`engine: cannot receive joins and leaves: ${describe(err)}`));
    engine.listenSync((event) => {
      if (event.node !== engine.node) this.#replace(event.node, event.entries);
    }).catch((err) => log(`engine: cannot receive nodes' rebuilt rooms: ${describe(err)}`));
    engine.present().then((all) => {
      for (const p of all) {
        if (p.node !== engine.node) {
          this.#apply({
            kind: "join",
            name: p.name,
            rooms: [p.room],
            ts: 0,
            node: p.node,
            ...marksOf(p),
          });
        }
      }
    }, (err) => log(`engine: cannot read who is in rooms: ${describe(err)}`));
  }

  /**
   * Tells every node that a user of this one joined, left, went offline or was renamed (the
   * change is kept in the engine for nodes that start later); a failure is logged.
   */
  tell(event: Omit<PresenceEvent, "node" | "ts">): void {
    if (event.rooms.length === 0) return;
    const marked = event.kind === "join" || event.kind === "rename" || event.kind === "status";
    const status = marked ? this.statusOf?.(event.to ?? event.name) : undefined;
    this.#engine.presence({
      ...event,
      ...status,
      ts: Date.now(),
      node: this.#engine.node,
    }).catch((err) =>
      this.#log(`engine: cannot tell ${event.kind} of ${event.name}: ${describe(err)}`)
    );
  }

  /** Calls `listener` for each presence change of another node's user, after it is applied. */
  onPresence(listener: (event: PresenceEvent) => void): void {
    this.#onPresence = listener;
  }

  /** The users of other nodes in a room. */
  members(roomKey: string): Remote[] {
    const room = this.#rooms.get(roomKey);
    return room === undefined ? [] : [...room.members.values()];
  }

  /** How many users of other nodes are in a room. */
  count(roomKey: string): number {
    return this.#rooms.get(roomKey)?.members.size ?? 0;
  }

  /** How many users of other nodes are in some room. */
  get users(): number {
    return this.#users.size;
  }

  /** The rooms that have users on other nodes: key, name and how many. */
  rooms(): { key: string; name: string; members: number }[] {
    return [...this.#rooms].map(([key, r]) => ({ key, name: r.name, members: r.members.size }));
  }

  /** The away and operator marks of a user of another node in some room, if any. */
  marks(node: string, name: string): UserStatus | undefined {
    return this.#marks.get(`${node}\n${nameKey(name)}`);
  }

  /**
   * Applies another node's presence change and tells this node's side (onPresence) of the
   * rooms it changed: a join of someone known there already, or a part of someone not
   * there, is no news (a node rebuilding its rooms after Redis restarted empty says them again).
   */
  #tellHere(event: PresenceEvent): void {
    const rooms = this.#apply(event);
    if (rooms.length > 0) {
      this.#onPresence?.(rooms.length === event.rooms.length ? event : { ...event, rooms });
    }
  }

  /** Applies a presence change of another node's user; the rooms it changed. */
  #apply(event: PresenceEvent): string[] {
    const user = (name: string) => `${event.node}\n${nameKey(name)}`;
    // An away message from Redis is shown as one from a user here would be: one line, bounded.
    const status: UserStatus = {
      ...(event.away === undefined
        ? {}
        : { away: [...sanitizeLabel(event.away)].slice(0, 1000).join("") }),
      ...(event.operator ? { operator: true as const } : {}),
    };
    const add = (roomName: string, name: string) => {
      const key = nameKey(roomName);
      let room = this.#rooms.get(key);
      if (room === undefined) this.#rooms.set(key, room = { name: roomName, members: new Map() });
      this.#marks.set(user(name), status);
      const known = room.members.get(nameKey(name));
      if (known?.node === event.node) {
        room.members.set(nameKey(name), { name, node: event.node, ...status });
      }
      if (known !== undefined) return false;
      room.members.set(nameKey(name), { name, node: event.node, ...status });
      this.#users.set(user(name), (this.#users.get(user(name)) ?? 0) + 1);
      return true;
    };
    const remove = (roomName: string, name: string) => {
      const key = nameKey(roomName);
      const room = this.#rooms.get(key);
      if (room === undefined || room.members.get(nameKey(name))?.node !== event.node) return false;
      room.members.delete(nameKey(name));
      if (room.members.size === 0) this.#rooms.delete(key);
      const left = (this.#users.get(user(name)) ?? 1) - 1;
      if (left > 0) this.#users.set(user(name), left);
      else {
        this.#users.delete(user(name));
        this.#marks.delete(user(name));
      }
      return true;
    };
    const changed: string[] = [];
    for (const room of event.rooms) {
      let done = event.kind === "join" || event.kind === "status"
        ? add(room, event.name)
        : remove(room, event.name);
      if (event.kind === "rename" && event.to !== undefined) done = add(room, event.to) || done;
      if (done) changed.push(room);
    }
    return changed;
  }

  /**
   * Makes this node's view of `node`'s users in rooms `entries` (all it has), telling this
   * node's side one quit, part or join per change: a user in no room any more quits, one in
   * new rooms joins them (as coming online when it was in none).
   */
  #replace(node: string, entries: SyncEntry[]): void {
    const before = new Map<string, { name: string; rooms: Map<string, string> }>();
    for (const room of this.#rooms.values()) {
      for (const [key, m] of room.members) {
        if (m.node !== node) continue;
        let user = before.get(key);
        if (user === undefined) before.set(key, user = { name: m.name, rooms: new Map() });
        user.rooms.set(nameKey(room.name), room.name);
      }
    }
    const after = new Map<
      string,
      { name: string; rooms: Map<string, string>; status: UserStatus }
    >();
    for (const { room, name, ...status } of entries) {
      let user = after.get(nameKey(name));
      if (user === undefined) after.set(nameKey(name), user = { name, rooms: new Map(), status });
      user.rooms.set(nameKey(room), room);
    }
    const ts = Date.now();
    const reason = "quit while the cluster could not be reached";
    for (const [key, user] of before) {
      const now = after.get(key);
      const gone = [...user.rooms].filter(([k]) => !now?.rooms.has(k)).map(([, r]) => r);
      if (gone.length === 0) continue;
      if (now === undefined) {
        this.#tellHere({ kind: "quit", name: user.name, rooms: gone, reason, ts, node });
      } else {
        for (const room of gone) {
          this.#tellHere({ kind: "part", name: user.name, rooms: [room], ts, node });
        }
      }
    }
    for (const [key, user] of after) {
      const was = before.get(key);
      const rooms = [...user.rooms].filter(([k]) => !was?.rooms.has(k)).map(([, r]) => r);
      const { status } = user;
      if (rooms.length > 0 && was !== undefined) {
        this.#tellHere({ kind: "join", name: user.name, rooms, ts, node, ...status });
      } else if (rooms.length > 0) {
        // Online again (or for the first time): into its first room, then moving to the others.
        this.#tellHere({
          kind: "join",
          name: user.name,
          rooms: rooms.slice(0, 1),
          ts,
          node,
          first: true,
          ...status,
        });
        if (rooms.length > 1) {
          this.#tellHere({
            kind: "join",
            name: user.name,
            rooms: rooms.slice(1),
            ts,
            node,
            ...status,
          });
        }
      }
      // Its marks as they are now (it may have gone away while the cluster could not be reached).
      this.#apply({
        kind: "status",
        name: user.name,
        rooms: [...user.rooms.values()],
        ts,
        node,
        ...status,
      });
    }
  }

  /** This node's name. */
  get node(): string {
    return this.#engine.node;
  }

  /**
   * Claims a name key for this node: "won", "lost" (another node holds it) or "failed" (the
   * engine is away; logged).
   */
  async claim(key: string, name: string): Promise<"won" | "lost" | "failed"> {
    try {
      return await this.#engine.claimName(key, name) ? "won" : "lost";
    } catch (err) {
      this.#log(`engine: cannot claim the name ${name}: ${describe(err)}`);
      return "failed";
    }
  }

  /** Gives a name key back (nobody on this node has it any more); a failure is logged. */
  release(key: string): void {
    this.#engine.releaseName(key).catch((err) =>
      this.#log(`engine: cannot give back a name: ${describe(err)}`)
    );
  }

  /** Names held on other nodes; rejects when the engine is away. */
  async elsewhere(): Promise<HeldName[]> {
    return (await this.#engine.names()).filter((h) => h.node !== this.#engine.node);
  }

  /**
   * Hands a room message or action to every node, this one included, in the room's one order:
   * each node delivers it when the engine passes it back (see `listen`). Rejects when the
   * engine is away.
   */
  async publish(roomKey: string, event: Omit<RoomEvent, "node">): Promise<void> {
    await this.#engine.publish(roomKey, { ...event, node: this.#engine.node });
  }

  /** The last `count` events of a room, oldest first; rejects when the engine is away. */
  history(roomKey: string, count: number): Promise<RoomEntry[]> {
    return this.#engine.history(roomKey, count);
  }

  /** Starts receiving every node's room events, in each room's order. */
  listen(listener: RoomListener): void {
    this.#engine.listen(listener).catch((err) =>
      this.#log(`engine: cannot receive room events: ${describe(err)}`)
    );
  }

  /** Who holds each of `keys`, in order; rejects when the engine is away. */
  whereIs(keys: string[]): Promise<(HeldName | undefined)[]> {
    return this.#engine.whereIs(keys);
  }

  /** Hands a private or group message to the other nodes; rejects when the engine is away. */
  async direct(event: Omit<DirectEvent, "node">): Promise<void> {
    await this.#engine.direct({ ...event, node: this.#engine.node });
  }

  /** Starts receiving the private and group messages of the other nodes. */
  listenDirect(listener: (event: DirectEvent) => void): void {
    this.#engine.listenDirect((event) => {
      if (event.node !== this.#engine.node) listener(event);
    }).catch((err) => this.#log(`engine: cannot receive private messages: ${describe(err)}`));
  }

  /** Asks the engine to sweep each other node this one knows of users of (a no-op unless dead). */
  #sweep(): void {
    const nodes = new Set<string>();
    for (const room of this.#rooms.values()) {
      for (const m of room.members.values()) nodes.add(m.node);
    }
    for (const node of nodes) {
      this.#engine.sweep(node, `node ${node} went away`).then((n) => {
        if (n > 0) this.#log(`engine: node ${node} went away: ${n} of its users left their rooms`);
      }, (err) => this.#log(`engine: cannot check node ${node}: ${describe(err)}`));
    }
  }

  /** Whether the engine answers now; a join or a move waits for it (see cluster_repair.ts). */
  get reachable(): boolean {
    return this.#engine.reachable;
  }

  /**
   * Calls `listener` when the engine is back after being away (`reconnected`) or lost its
   * data (`fresh`: a new epoch).
   */
  onRecover(listener: (fresh: boolean, reconnected: boolean) => void): void {
    this.#engine.onRecover(listener);
  }

  /**
   * Calls `listener` once this node has registered its users again after Redis lost its data
   * (a new epoch): the place to write back what else this node keeps in Redis.
   */
  onNewEpoch(listener: () => void): void {
    this.#onNewEpoch.push(listener);
  }

  /** Tells the onNewEpoch listeners; one that throws is logged. */
  newEpoch(): void {
    for (const listener of this.#onNewEpoch) {
      try {
        listener();
      } catch (err) {
        this.#log(`engine: after the new epoch: ${describe(err)}`);
      }
    }
  }

  /** Renews this node's key and names at once; rejects when the engine is away. */
  renew(): Promise<void> {
    return this.#engine.heartbeat();
  }

  /** Claims every name of this node's users again; the keys another node holds now. */
  reclaim(names: { key: string; name: string }[]): Promise<string[]> {
    return this.#engine.reclaimNames(names);
  }

  /** Replaces this node's users in rooms in the engine, and tells every node. */
  rebuild(entries: SyncEntry[]): Promise<void> {
    return this.#engine.rebuild(entries);
  }

  /** The events of a room after id `after`, oldest first; rejects when the engine is away. */
  since(roomKey: string, after: string | undefined, count: number): Promise<RoomEntry[]> {
    return this.#engine.since(roomKey, after, count);
  }

  /**
   * Reads who is where on the other nodes again and tells this node's side what changed
   * (changes missed while the engine was away); rejects when it is away.
   */
  async resync(): Promise<void> {
    const all: Presence[] = await this.#engine.present();
    const byNode = new Map<string, SyncEntry[]>();
    for (const room of this.#rooms.values()) {
      for (const m of room.members.values()) byNode.set(m.node, []);
    }
    for (const p of all) {
      if (p.node === this.#engine.node) continue;
      let entries = byNode.get(p.node);
      if (entries === undefined) byNode.set(p.node, entries = []);
      entries.push({ room: p.room, name: p.name, ...marksOf(p) });
    }
    for (const [node, entries] of byNode) this.#replace(node, entries);
  }

  /** Forgets the history of rooms past the retention, in the engine; a failure is logged. */
  #prune(): void {
    const { retainMs, keepRooms } = this.#retention;
    const before = retainMs > 0 ? Date.now() - retainMs : 0;
    this.#engine.prune(before, keepRooms).then((n) => {
      if (n > 0) {
        this.#log(`engine: forgot the history of ${n} rooms (--retain-days, --retain-messages)`);
      }
    }, (err) => this.#log(`engine: cannot forget old history: ${describe(err)}`));
  }

  /** Stops the heartbeat (the engine itself is closed by its owner). */
  close(): void {
    clearInterval(this.#beat);
  }

  /** Hands an operator's order (a kick, a purge) to every node; rejects when the engine is away. */
  async order(event: OrderEvent): Promise<void> {
    await this.#engine.order(event);
  }

  /** Starts receiving the orders of every node, this one's included. */
  listenOrders(listener: (event: OrderEvent) => void): void {
    this.#engine.listenOrders(listener).catch((err) =>
      this.#log(`engine: cannot receive operators' orders: ${describe(err)}`)
    );
  }

  #heartbeat(): void {
    this.#engine.heartbeat().then(() => {
      this.#sweep();
      this.#prune();
      if (this.#beatFailed) this.#log("engine: heartbeat works again");
      this.#beatFailed = false;
    }, (err) => {
      if (!this.#beatFailed) this.#log(`engine: heartbeat failed: ${describe(err)}`);
      this.#beatFailed = true;
    });
  }
}
