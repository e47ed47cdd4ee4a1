// The memory engine: names, room events and history in this process, for one node (the
// default) and for tests that run several nodes in one process over one MemoryBackend.
// The hub never calls it on a single node's hot path; it is the seam's reference behaviour.

import { compareIds, presenceChanges, presenceField, recordProblem } from "./engine.ts";
import type { MotdChange, TopicChange } from "./room_state.ts";
import type {
  DirectEvent,
  Engine,
  EngineOptions,
  HeldName,
  OrderEvent,
  Presence,
  PresenceEvent,
  RecordChange,
  RoomEntry,
  RoomEvent,
  RoomListener,
  SharedRecord,
  SyncEntry,
  SyncEvent,
} from "./engine.ts";

interface Held {
  name: string;
  node: string;
  /** When the claim lapses unless the node's heartbeat renews it (ms since the epoch). */
  expires: number;
}

interface RoomLog {
  seq: number;
  events: RoomEntry[];
  /** When its last event was published (the event's ts). */
  last: number;
}

/** What memory engines in one process share: the stand-in for a Redis server. */
export class MemoryBackend {
  readonly names = new Map<string, Held>();
  readonly rooms = new Map<string, RoomLog>();
  readonly listeners = new Set<RoomListener>();
  readonly direct = new Set<(event: DirectEvent) => void>();
  readonly presence = new Set<(event: PresenceEvent) => void>();
  /** Users in rooms by `room key\nname key`. */
  readonly present = new Map<string, Presence>();
  /** When each node lapses unless its heartbeat renews it (ms since the epoch). */
  readonly alive = new Map<string, number>();
  /** Topics by room key. */
  readonly topics = new Map<string, TopicChange>();
  readonly topicListeners = new Set<(roomKey: string, change: TopicChange) => void>();
  motd: MotdChange | undefined;
  readonly motdListeners = new Set<(motd: MotdChange) => void>();
  /** Shared records by `kind\nkey`. */
  readonly records = new Map<string, SharedRecord>();
  readonly recordListeners = new Set<(change: RecordChange) => void>();
  readonly orders = new Set<(event: OrderEvent) => void>();
  readonly sync = new Set<(event: SyncEvent) => void>();
}

/** The engine over a MemoryBackend (a fresh one when none is given). */
export class MemoryEngine implements Engine {
  readonly kind = "memory";
  readonly node: string;
  readonly #backend: MemoryBackend;
  readonly #options: EngineOptions;
  readonly #now: () => number;
  #listener: RoomListener | undefined;
  #direct: ((event: DirectEvent) => void) | undefined;
  #presence: ((event: PresenceEvent) => void) | undefined;
  #topics: ((roomKey: string, change: TopicChange) => void) | undefined;
  #motd: ((motd: MotdChange) => void) | undefined;
  #records: ((change: RecordChange) => void) | undefined;
  #orders: ((event: OrderEvent) => void) | undefined;
  #sync: ((event: SyncEvent) => void) | undefined;

  constructor(options: EngineOptions, backend = new MemoryBackend(), now = Date.now) {
    this.node = options.node;
    this.#options = options;
    this.#backend = backend;
    this.#now = now;
    // Users left in rooms by an earlier engine of this node are gone: the others are told.
    this.#sweep(this.node, `node ${this.node} restarted`, true);
    this.#backend.alive.set(this.node, now() + options.nodeTimeoutMs);
  }

  claimName(key: string, name: string): Promise<boolean> {
    const now = this.#now();
    const held = this.#backend.names.get(key);
    if (held !== undefined && held.expires > now && held.node !== this.node) {
      return Promise.resolve(false);
    }
    this.#backend.names.set(key, {
      name,
      node: this.node,
      expires: now + this.#options.nodeTimeoutMs,
    });
    return Promise.resolve(true);
  }

  releaseName(key: string): Promise<void> {
    if (this.#backend.names.get(key)?.node === this.node) this.#backend.names.delete(key);
    return Promise.resolve();
  }

  names(): Promise<HeldName[]> {
    const now = this.#now();
    const out: HeldName[] = [];
    for (const [key, held] of this.#backend.names) {
      if (held.expires > now) out.push({ key, name: held.name, node: held.node });
      else this.#backend.names.delete(key);
    }
    return Promise.resolve(out);
  }

  whereIs(keys: string[]): Promise<(HeldName | undefined)[]> {
    const now = this.#now();
    return Promise.resolve(keys.map((key) => {
      const held = this.#backend.names.get(key);
      return held && held.expires > now ? { key, name: held.name, node: held.node } : undefined;
    }));
  }

  heartbeat(): Promise<void> {
    const expires = this.#now() + this.#options.nodeTimeoutMs;
    this.#backend.alive.set(this.node, expires);
    for (const held of this.#backend.names.values()) {
      if (held.node === this.node && held.expires > this.#now()) held.expires = expires;
    }
    return Promise.resolve();
  }

  publish(room: string, event: RoomEvent): Promise<string> {
    let log = this.#backend.rooms.get(room);
    if (log === undefined) this.#backend.rooms.set(room, log = { seq: 0, events: [], last: 0 });
    const id = String(++log.seq);
    log.events.push({ id, event });
    log.last = event.ts;
    const keep = this.#options.historyLines;
    if (log.events.length > keep) log.events.splice(0, log.events.length - keep);
    for (const listener of this.#backend.listeners) listener(room, id, event);
    return Promise.resolve(id);
  }

  history(room: string, count: number): Promise<RoomEntry[]> {
    const events = this.#backend.rooms.get(room)?.events ?? [];
    return Promise.resolve(count <= 0 ? [] : events.slice(-count));
  }

  listen(listener: RoomListener): Promise<void> {
    if (this.#listener !== undefined) throw new Error("the engine already has a listener");
    this.#listener = listener;
    this.#backend.listeners.add(listener);
    return Promise.resolve();
  }

  direct(event: DirectEvent): Promise<void> {
    for (const listener of this.#backend.direct) listener(event);
    return Promise.resolve();
  }

  listenDirect(listener: (event: DirectEvent) => void): Promise<void> {
    if (this.#direct !== undefined) throw new Error("the engine already has a listener");
    this.#direct = listener;
    this.#backend.direct.add(listener);
    return Promise.resolve();
  }

  presence(event: PresenceEvent): Promise<void> {
    const { dels, sets } = presenceChanges(event);
    for (const field of dels) this.#backend.present.delete(field);
    for (const [field, entry] of sets) this.#backend.present.set(field, entry);
    for (const listener of this.#backend.presence) listener(event);
    return Promise.resolve();
  }

  present(): Promise<Presence[]> {
    return Promise.resolve([...this.#backend.present.values()]);
  }

  sweep(node: string, reason: string): Promise<number> {
    return Promise.resolve(this.#sweep(node, reason, false));
  }

  #sweep(node: string, reason: string, force: boolean): number {
    if (!force && (this.#backend.alive.get(node) ?? 0) > this.#now()) return 0;
    const users = new Map<string, string[]>();
    for (const [field, entry] of this.#backend.present) {
      if (entry.node !== node) continue;
      this.#backend.present.delete(field);
      const rooms = users.get(entry.name);
      if (rooms === undefined) users.set(entry.name, [entry.room]);
      else rooms.push(entry.room);
    }
    const ts = this.#now();
    for (const [name, rooms] of users) {
      for (const listener of this.#backend.presence) {
        listener({ kind: "quit", name, rooms, reason, ts, node });
      }
    }
    return users.size;
  }

  listenPresence(listener: (event: PresenceEvent) => void): Promise<void> {
    if (this.#presence !== undefined) throw new Error("the engine already has a listener");
    this.#presence = listener;
    this.#backend.presence.add(listener);
    return Promise.resolve();
  }

  putRecord(kind: string, key: string, value: string, expected?: string): Promise<boolean> {
    const problem = recordProblem(kind, key, value);
    if (problem !== undefined) return Promise.reject(new RangeError(problem));
    const field = `${kind}\n${key}`;
    if (expected !== undefined && this.#backend.records.get(field)?.value !== expected) {
      return Promise.resolve(false);
    }
    this.#backend.records.set(field, { kind, key, value });
    this.#changed({ kind, key, value, node: this.node });
    return Promise.resolve(true);
  }

  removeRecord(kind: string, key: string, expected?: string): Promise<boolean> {
    const field = `${kind}\n${key}`;
    const held = this.#backend.records.get(field);
    if (held === undefined || (expected !== undefined && held.value !== expected)) {
      return Promise.resolve(false);
    }
    this.#backend.records.delete(field);
    this.#changed({ kind, key, node: this.node });
    return Promise.resolve(true);
  }

  records(): Promise<SharedRecord[]> {
    return Promise.resolve([...this.#backend.records.values()].map((r) => ({ ...r })));
  }

  listenRecords(listener: (change: RecordChange) => void): Promise<void> {
    if (this.#records !== undefined) throw new Error("the engine already has a listener");
    this.#records = listener;
    this.#backend.recordListeners.add(listener);
    return Promise.resolve();
  }

  reseedRecords(records: SharedRecord[]): Promise<number> {
    let written = 0;
    for (const { kind, key, value } of records) {
      if (recordProblem(kind, key, value) !== undefined) continue;
      const field = `${kind}\n${key}`;
      if (this.#backend.records.has(field)) continue;
      this.#backend.records.set(field, { kind, key, value });
      this.#changed({ kind, key, value, node: this.node });
      written++;
    }
    return Promise.resolve(written);
  }

  order(event: OrderEvent): Promise<void> {
    if (event.kind === "purge") {
      const log = this.#backend.rooms.get(event.room);
      // The sequence stays, as a stream's ids keep growing after it is deleted.
      if (event.what !== "topic" && log !== undefined) log.events = [];
      if (event.what !== "history") this.#backend.topics.delete(event.room);
    }
    for (const listener of this.#backend.orders) listener(event);
    return Promise.resolve();
  }

  listenOrders(listener: (event: OrderEvent) => void): Promise<void> {
    if (this.#orders !== undefined) throw new Error("the engine already has a listener");
    this.#orders = listener;
    this.#backend.orders.add(listener);
    return Promise.resolve();
  }

  #changed(change: RecordChange): void {
    for (const listener of this.#backend.recordListeners) listener({ ...change });
  }

  close(): Promise<void> {
    if (this.#records !== undefined) this.#backend.recordListeners.delete(this.#records);
    this.#records = undefined;
    if (this.#orders !== undefined) this.#backend.orders.delete(this.#orders);
    this.#orders = undefined;
    if (this.#presence !== undefined) this.#backend.presence.delete(this.#presence);
    this.#presence = undefined;
    if (this.#listener !== undefined) this.#backend.listeners.delete(this.#listener);
    this.#listener = undefined;
    if (this.#direct !== undefined) this.#backend.direct.delete(this.#direct);
    this.#direct = undefined;
    for (const [key, held] of this.#backend.names) {
      if (held.node === this.node) this.#backend.names.delete(key);
    }
    this.#backend.alive.delete(this.node);
    if (this.#sync !== undefined) this.#backend.sync.delete(this.#sync);
    this.#sync = undefined;
    if (this.#topics !== undefined) this.#backend.topicListeners.delete(this.#topics);
    this.#topics = undefined;
    if (this.#motd !== undefined) this.#backend.motdListeners.delete(this.#motd);
    this.#motd = undefined;
    return Promise.resolve();
  }

  setTopic(roomKey: string, change: TopicChange): Promise<void> {
    if (change.text === undefined) this.#backend.topics.delete(roomKey);
    else this.#backend.topics.set(roomKey, change);
    for (const listener of this.#backend.topicListeners) listener(roomKey, change);
    return Promise.resolve();
  }

  topic(roomKey: string): Promise<TopicChange | undefined> {
    return Promise.resolve(this.#backend.topics.get(roomKey));
  }

  restoreTopics(topics: [string, TopicChange][]): Promise<void> {
    for (const [key, change] of topics) {
      if (change.text !== undefined && !this.#backend.topics.has(key)) {
        this.#backend.topics.set(key, change);
      }
    }
    return Promise.resolve();
  }

  listenTopics(listener: (roomKey: string, change: TopicChange) => void): Promise<void> {
    if (this.#topics !== undefined) throw new Error("the engine already has a listener");
    this.#topics = listener;
    this.#backend.topicListeners.add(listener);
    return Promise.resolve();
  }

  setMotd(motd: MotdChange): Promise<void> {
    this.#backend.motd = motd;
    for (const listener of this.#backend.motdListeners) listener(motd);
    return Promise.resolve();
  }

  motd(): Promise<MotdChange | undefined> {
    return Promise.resolve(this.#backend.motd);
  }

  restoreMotd(motd: MotdChange): Promise<void> {
    this.#backend.motd ??= motd;
    return Promise.resolve();
  }

  listenMotd(listener: (motd: MotdChange) => void): Promise<void> {
    if (this.#motd !== undefined) throw new Error("the engine already has a listener");
    this.#motd = listener;
    this.#backend.motdListeners.add(listener);
    return Promise.resolve();
  }

  readonly reachable = true;

  onRecover(_listener: (fresh: boolean, reconnected: boolean) => void): void {
    // Never away.
  }

  reclaimNames(names: { key: string; name: string }[]): Promise<string[]> {
    const now = this.#now();
    const lost: string[] = [];
    for (const { key, name } of names) {
      const held = this.#backend.names.get(key);
      if (held !== undefined && held.expires > now && held.node !== this.node) lost.push(key);
      else {
        this.#backend.names.set(key, {
          name,
          node: this.node,
          expires: now + this.#options.nodeTimeoutMs,
        });
      }
    }
    return Promise.resolve(lost);
  }

  rebuild(entries: SyncEntry[]): Promise<void> {
    for (const [field, entry] of this.#backend.present) {
      if (entry.node === this.node) this.#backend.present.delete(field);
    }
    for (const entry of entries) {
      this.#backend.present.set(presenceField(entry.room, entry.name), {
        ...entry,
        node: this.node,
      });
    }
    const event = { node: this.node, entries, ts: this.#now() };
    for (const listener of this.#backend.sync) listener(event);
    return Promise.resolve();
  }

  listenSync(listener: (event: SyncEvent) => void): Promise<void> {
    if (this.#sync !== undefined) throw new Error("the engine already has a listener");
    this.#sync = listener;
    this.#backend.sync.add(listener);
    return Promise.resolve();
  }

  since(room: string, after: string | undefined, count: number): Promise<RoomEntry[]> {
    const events = this.#backend.rooms.get(room)?.events ?? [];
    const newer = after === undefined ? events : events.filter((e) => compareIds(e.id, after) > 0);
    return Promise.resolve(count <= 0 ? [] : newer.slice(0, count));
  }

  prune(before: number, keepRooms: number): Promise<number> {
    const kept = [...this.#backend.rooms].filter(([, log]) => log.events.length > 0);
    const old = kept.filter(([, log]) => log.last < before);
    const recent = kept.filter(([, log]) => log.last >= before).sort((a, b) =>
      a[1].last - b[1].last
    );
    const gone = [...old, ...recent.slice(0, Math.max(0, recent.length - keepRooms))].slice(0, 500);
    // The sequence stays: ids of a room's later events keep growing, as a stream's do.
    for (const [, log] of gone) log.events = [];
    return Promise.resolve(gone.length);
  }
}
