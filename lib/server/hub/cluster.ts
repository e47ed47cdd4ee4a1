// The hub's side of a shared engine (Redis): names claimed across nodes before a client takes
// one, given back when it leaves or renames, kept alive by a heartbeat; names on other nodes for
// /users * and /whois; room messages handed to every node in one order, private ones to the
// nodes of their recipients; who is in which room on the other nodes, and the users of a node
// gone silent taken out of their rooms. Only made when the engine is shared: a single node never calls it.

import type {
  DirectEvent,
  Engine,
  HeldName,
  OrderEvent,
  PresenceEvent,
  RoomEntry,
  RoomEvent,
  RoomListener,
  UserStatus,
} from "../engine/engine.ts";
import { describe } from "./failures.ts";
import { nameKey } from "../../protocol/names.ts";
import { sanitizeLabel } from "../../protocol/sanitize.ts";

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
  /** The marks of each user of another node in some room, by `node\nname key`. */
  readonly #marks = new Map<string, UserStatus>();
  /** Where tell() reads the marks of a user of this node (a join, rename or status change). */
  statusOf: ((name: string) => UserStatus) | undefined;

  /** Starts the heartbeat: every third of the node timeout. */
  constructor(engine: Engine, nodeTimeoutMs: number, log: (line: string) => void) {
    this.#engine = engine;
    this.#log = log;
    this.#beat = setInterval(() => this.#heartbeat(), Math.max(100, nodeTimeoutMs / 3));
    Deno.unrefTimer(this.#beat);
    engine.listenPresence((event) => {
      if (event.node === engine.node) return;
      this.#apply(event);
      this.#onPresence?.(event);
    }).catch((err) => log(`engine: cannot receive joins and leaves: ${describe(err)}`));
    engine.present().then((all) => {
      for (const p of all) {
        if (p.node !== engine.node) {
          const { away, operator } = p;
          this.#apply({
            kind: "join",
            name: p.name,
            rooms: [p.room],
            ts: 0,
            node: p.node,
            ...(away === undefined ? {} : { away }),
            ...(operator ? { operator } : {}),
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

  #apply(event: PresenceEvent): void {
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
      if (known !== undefined) return;
      room.members.set(nameKey(name), { name, node: event.node, ...status });
      this.#users.set(user(name), (this.#users.get(user(name)) ?? 0) + 1);
    };
    const remove = (roomName: string, name: string) => {
      const key = nameKey(roomName);
      const room = this.#rooms.get(key);
      if (room === undefined || room.members.get(nameKey(name))?.node !== event.node) return;
      room.members.delete(nameKey(name));
      if (room.members.size === 0) this.#rooms.delete(key);
      const left = (this.#users.get(user(name)) ?? 1) - 1;
      if (left > 0) this.#users.set(user(name), left);
      else {
        this.#users.delete(user(name));
        this.#marks.delete(user(name));
      }
    };
    for (const room of event.rooms) {
      if (event.kind === "join" || event.kind === "status") add(room, event.name);
      else remove(room, event.name);
      if (event.kind === "rename" && event.to !== undefined) add(room, event.to);
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
      if (this.#beatFailed) this.#log("engine: heartbeat works again");
      this.#beatFailed = false;
    }, (err) => {
      if (!this.#beatFailed) this.#log(`engine: heartbeat failed: ${describe(err)}`);
      this.#beatFailed = true;
    });
  }
}
