// Where what lasts is kept: room history, topics, bans and owned names. MemoryStore keeps
// them for the life of the process; SqliteStore keeps them in an embedded node:sqlite file
// (--data), each write committed before it returns. Routing and rendering are the hub's.

import { DatabaseSync } from "node:sqlite";

/** A message kept in a room's history. */
export interface StoredMessage {
  room: string;
  kind: "message" | "action";
  from: string;
  text: string;
  ts: number;
}

/** A room's topic and who set it when. */
export interface StoredTopic {
  room: string;
  topic: string;
  by: string;
  ts: number;
}

/** A ban of a name (by its key) or an IP address; `until` is absent for a permanent one. */
export interface StoredBan {
  kind: "name" | "ip";
  target: string;
  until?: number;
  reason?: string;
  by: string;
  ts: number;
}

/**
 * A mute of a name (by its key) or of an IP address or range (canonical); `until` is absent
 * for one until /unmute. A name mute also covers the `address` its user had when muted.
 */
export interface StoredMute {
  kind: "name" | "ip";
  target: string;
  address?: string;
  until?: number;
  reason?: string;
  by: string;
  ts: number;
}

/** An owned name: its salted slow hash (see passwords.ts). */
export interface StoredAccount {
  /** The name's key (lower case). */
  key: string;
  /** The name as registered. */
  name: string;
  /** `scrypt$N$r$p$salt$hash`, base64 parts. */
  hash: string;
  ts: number;
}

/** The hub's persistence. Calls are synchronous: a message is stored before it is sent. */
export interface ChatStore {
  /** Whether what is stored outlasts the process (accounts need it). */
  readonly persistent: boolean;
  /** Keeps a message; durable (where the store is) when this returns. */
  append(message: StoredMessage): void;
  /** The last `limit` messages of `room`, oldest first. */
  recent(room: string, limit: number): StoredMessage[];
  setTopic(topic: StoredTopic): void;
  /** The topic of `room`, if one is set. */
  topic(room: string): StoredTopic | undefined;
  /** Every topic set, by room. */
  topics(): StoredTopic[];
  /** Forgets a room's history (on disk too). */
  clearHistory(room: string): void;
  /** Removes a room's topic (on disk too). */
  removeTopic(room: string): void;
  /** The room has no members: what is kept only in memory for it may go. */
  forget(room: string): void;
  addBan(ban: StoredBan): void;
  /** Lifts a ban; false when there was none. */
  removeBan(kind: StoredBan["kind"], target: string): boolean;
  bans(): StoredBan[];
  addMute(mute: StoredMute): void;
  /** Lifts a mute; false when there was none. */
  removeMute(kind: StoredMute["kind"], target: string): boolean;
  mutes(): StoredMute[];
  account(key: string): StoredAccount | undefined;
  setAccount(account: StoredAccount): void;
  /** Releases a name; false when it was not registered. */
  removeAccount(key: string): boolean;
  close(): void;
}

/** Keeps the last `keep` messages per room in memory. */
export class MemoryStore implements ChatStore {
  readonly persistent = false;
  readonly #keep: number;
  readonly #history = new Map<string, StoredMessage[]>();
  readonly #topics = new Map<string, StoredTopic>();
  readonly #bans = new Map<string, StoredBan>();
  readonly #mutes = new Map<string, StoredMute>();
  readonly #accounts = new Map<string, StoredAccount>();

  constructor(keep: number) {
    this.#keep = keep;
  }

  append(message: StoredMessage): void {
    if (this.#keep === 0) return;
    let list = this.#history.get(message.room);
    if (!list) this.#history.set(message.room, list = []);
    list.push(message);
    // Trim in batches so appends stay O(1) amortized.
    if (list.length >= this.#keep * 2) list.splice(0, list.length - this.#keep);
  }

  recent(room: string, limit: number): StoredMessage[] {
    const list = this.#history.get(room) ?? [];
    return limit > 0 ? list.slice(-limit) : [];
  }

  setTopic(topic: StoredTopic): void {
    this.#topics.set(topic.room, topic);
  }

  topic(room: string): StoredTopic | undefined {
    return this.#topics.get(room);
  }

  topics(): StoredTopic[] {
    return [...this.#topics.values()];
  }

  clearHistory(room: string): void {
    this.#history.delete(room);
  }

  removeTopic(room: string): void {
    this.#topics.delete(room);
  }

  forget(room: string): void {
    this.#history.delete(room);
    this.#topics.delete(room);
  }

  addBan(ban: StoredBan): void {
    this.#bans.set(`${ban.kind} ${ban.target}`, ban);
  }

  removeBan(kind: StoredBan["kind"], target: string): boolean {
    return this.#bans.delete(`${kind} ${target}`);
  }

  bans(): StoredBan[] {
    return [...this.#bans.values()];
  }

  addMute(mute: StoredMute): void {
    this.#mutes.set(`${mute.kind} ${mute.target}`, mute);
  }

  removeMute(kind: StoredMute["kind"], target: string): boolean {
    return this.#mutes.delete(`${kind} ${target}`);
  }

  mutes(): StoredMute[] {
    return [...this.#mutes.values()];
  }

  account(key: string): StoredAccount | undefined {
    return this.#accounts.get(key);
  }

  setAccount(account: StoredAccount): void {
    this.#accounts.set(account.key, account);
  }

  removeAccount(key: string): boolean {
    return this.#accounts.delete(key);
  }

  close(): void {}
}

/** Keeps history and topics in a SQLite file; survives restarts and `kill -9`. */
export class SqliteStore implements ChatStore {
  readonly persistent = true;
  readonly #db: DatabaseSync;
  readonly #insert;
  readonly #recent;
  readonly #setTopic;

  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    // WAL with synchronous=NORMAL: a committed row survives the process being killed
    // (it is in the OS by then); only a power cut can lose the last commits.
    this.#db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = NORMAL;
      CREATE TABLE IF NOT EXISTS messages (
        id INTEGER PRIMARY KEY,
        room TEXT NOT NULL,
        kind TEXT NOT NULL,
        sender TEXT NOT NULL,
        text TEXT NOT NULL,
        ts INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS messages_room ON messages (room, id);
      CREATE TABLE IF NOT EXISTS topics (
        room TEXT PRIMARY KEY,
        topic TEXT NOT NULL,
        set_by TEXT NOT NULL,
        ts INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS bans (
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        until INTEGER,
        reason TEXT,
        set_by TEXT NOT NULL,
        ts INTEGER NOT NULL,
        PRIMARY KEY (kind, target)
      );
      CREATE TABLE IF NOT EXISTS accounts (
        key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        hash TEXT NOT NULL,
        ts INTEGER NOT NULL
      );
    `);
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS mutes (
        kind TEXT NOT NULL,
        target TEXT NOT NULL,
        address TEXT,
        until INTEGER,
        reason TEXT,
        set_by TEXT NOT NULL,
        ts INTEGER NOT NULL,
        PRIMARY KEY (kind, target)
      );
    `);
    this.#insert = this.#db.prepare(
      "INSERT INTO messages (room, kind, sender, text, ts) VALUES (?, ?, ?, ?, ?)",
    );
    this.#recent = this.#db.prepare(
      'SELECT room, kind, sender AS "from", text, ts FROM messages WHERE room = ? ORDER BY id DESC LIMIT ?',
    );
    this.#setTopic = this.#db.prepare(
      "INSERT INTO topics (room, topic, set_by, ts) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (room) DO UPDATE SET topic = excluded.topic, set_by = excluded.set_by, ts = excluded.ts",
    );
  }

  append(m: StoredMessage): void {
    this.#insert.run(m.room, m.kind, m.from, m.text, m.ts);
  }

  recent(room: string, limit: number): StoredMessage[] {
    if (limit <= 0) return [];
    const rows = this.#recent.all(room, limit) as unknown as StoredMessage[];
    return rows.reverse().map((r) => ({ ...r }));
  }

  setTopic(t: StoredTopic): void {
    this.#setTopic.run(t.room, t.topic, t.by, t.ts);
  }

  topic(room: string): StoredTopic | undefined {
    const row = this.#db.prepare("SELECT room, topic, set_by AS by, ts FROM topics WHERE room = ?")
      .get(room);
    return row ? { ...(row as unknown as StoredTopic) } : undefined;
  }

  clearHistory(room: string): void {
    this.#db.prepare("DELETE FROM messages WHERE room = ?").run(room);
  }

  removeTopic(room: string): void {
    this.#db.prepare("DELETE FROM topics WHERE room = ?").run(room);
  }

  forget(_room: string): void {
    // History and topics stay on disk, bounded by retention.
  }

  topics(): StoredTopic[] {
    const rows = this.#db.prepare("SELECT room, topic, set_by AS by, ts FROM topics").all();
    return (rows as unknown as StoredTopic[]).map((r) => ({ ...r }));
  }

  addBan(b: StoredBan): void {
    this.#db.prepare(
      "INSERT OR REPLACE INTO bans (kind, target, until, reason, set_by, ts) VALUES (?, ?, ?, ?, ?, ?)",
    ).run(b.kind, b.target, b.until ?? null, b.reason ?? null, b.by, b.ts);
  }

  removeBan(kind: StoredBan["kind"], target: string): boolean {
    const r = this.#db.prepare("DELETE FROM bans WHERE kind = ? AND target = ?").run(kind, target);
    return Number(r.changes) > 0;
  }

  bans(): StoredBan[] {
    const rows = this.#db.prepare("SELECT kind, target, until, reason, set_by AS by, ts FROM bans")
      .all() as unknown as (StoredBan & { until: number | null; reason: string | null })[];
    return rows.map(({ until, reason, ...rest }) => ({
      ...rest,
      ...(until === null ? {} : { until }),
      ...(reason === null ? {} : { reason }),
    }));
  }

  addMute(m: StoredMute): void {
    this.#db.prepare(
      "INSERT OR REPLACE INTO mutes (kind, target, address, until, reason, set_by, ts) " +
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
    ).run(m.kind, m.target, m.address ?? null, m.until ?? null, m.reason ?? null, m.by, m.ts);
  }

  removeMute(kind: StoredMute["kind"], target: string): boolean {
    const r = this.#db.prepare("DELETE FROM mutes WHERE kind = ? AND target = ?").run(kind, target);
    return Number(r.changes) > 0;
  }

  mutes(): StoredMute[] {
    const rows = this.#db.prepare(
      "SELECT kind, target, address, until, reason, set_by AS by, ts FROM mutes",
    ).all() as unknown as (StoredMute & {
      address: string | null;
      until: number | null;
      reason: string | null;
    })[];
    return rows.map(({ address, until, reason, ...rest }) => ({
      ...rest,
      ...(address === null ? {} : { address }),
      ...(until === null ? {} : { until }),
      ...(reason === null ? {} : { reason }),
    }));
  }

  account(key: string): StoredAccount | undefined {
    const row = this.#db.prepare("SELECT key, name, hash, ts FROM accounts WHERE key = ?").get(key);
    return row ? { ...(row as unknown as StoredAccount) } : undefined;
  }

  setAccount(a: StoredAccount): void {
    this.#db.prepare("INSERT OR REPLACE INTO accounts (key, name, hash, ts) VALUES (?, ?, ?, ?)")
      .run(a.key, a.name, a.hash, a.ts);
  }

  removeAccount(key: string): boolean {
    const r = this.#db.prepare("DELETE FROM accounts WHERE key = ?").run(key);
    return Number(r.changes) > 0;
  }

  close(): void {
    this.#db.close();
  }
}
