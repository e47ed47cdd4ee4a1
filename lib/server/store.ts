// Where what lasts is kept: room history, topics, bans and owned names, and how much history
// is kept. MemoryStore keeps them for the life of the process; SqliteStore in one node:sqlite
// file (--data) that one server at a time holds. Routing, rendering and replies are the hub's.

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { DEFAULT_LIMITS, type Limits } from "./limits.ts";
import { nameKey } from "../protocol/names.ts";

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
  /** Forgets a room's history. */
  clearHistory(room: string): void;
  /** The room has no members: a store in memory gives its history up; on disk it stays. */
  forget(room: string): void;
  /** Deletes history past the retention (by age, per room, in total); bounded work per call. */
  prune(now: number): void;
  setTopic(topic: StoredTopic): void;
  /** The topic of `room`, if one is set. */
  topic(room: string): StoredTopic | undefined;
  /** Removes a room's topic. */
  removeTopic(room: string): void;
  /** Every topic set, by room. */
  topics(): StoredTopic[];
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

/** How long history is kept, and how much in all (see limits.ts). */
export type Retention = Pick<Limits, "retainMs" | "retainMessages">;

/** Keeps the last `keep` messages per room in memory, within `retention`. */
export class MemoryStore implements ChatStore {
  readonly persistent: boolean = false;
  readonly #keep: number;
  readonly #retention: Retention;
  readonly #history = new Map<string, StoredMessage[]>();
  /** Messages in #history, all rooms together. */
  #count = 0;
  readonly #topics = new Map<string, StoredTopic>();
  readonly #bans = new Map<string, StoredBan>();
  readonly #mutes = new Map<string, StoredMute>();
  readonly #accounts = new Map<string, StoredAccount>();

  constructor(keep: number, retention: Partial<Retention> = {}) {
    this.#keep = keep;
    this.#retention = {
      retainMs: retention.retainMs ?? DEFAULT_LIMITS.retainMs,
      retainMessages: retention.retainMessages ?? DEFAULT_LIMITS.retainMessages,
    };
  }

  append(message: StoredMessage): void {
    if (this.#keep === 0) return;
    let list = this.#history.get(message.room);
    if (!list) this.#history.set(message.room, list = []);
    list.push(message);
    this.#count++;
    // Trim in batches so appends stay O(1) amortized.
    if (list.length >= this.#keep * 2) this.#drop(list, list.length - this.#keep);
  }

  recent(room: string, limit: number): StoredMessage[] {
    const list = this.#history.get(room) ?? [];
    return limit > 0 ? list.slice(-limit) : [];
  }

  clearHistory(room: string): void {
    this.#count -= this.#history.get(room)?.length ?? 0;
    this.#history.delete(room);
  }

  forget(room: string): void {
    // Nothing outlasts the process here: a room nobody is in is forgotten with its topic.
    this.clearHistory(room);
    this.#topics.delete(room);
  }

  prune(now: number): void {
    const { retainMs, retainMessages } = this.#retention;
    for (const [room, list] of this.#history) {
      let old = Math.max(0, list.length - this.#keep);
      if (retainMs > 0) { while (old < list.length && list[old].ts < now - retainMs) old++; }
      this.#drop(list, old);
      if (list.length === 0) this.#history.delete(room);
    }
    const excess = retainMessages > 0 ? this.#count - retainMessages : 0;
    if (excess <= 0) return;
    // The oldest `excess` messages of all rooms: each list is oldest first.
    const all = [...this.#history.values()].flat();
    const cut = all.sort((a, b) => a.ts - b.ts)[excess - 1].ts;
    let left = excess;
    for (const [room, list] of this.#history) {
      let n = 0;
      while (n < list.length && left > 0 && list[n].ts <= cut) n++, left--;
      this.#drop(list, n);
      if (list.length === 0) this.#history.delete(room);
    }
  }

  #drop(list: StoredMessage[], n: number): void {
    list.splice(0, n);
    this.#count -= n;
  }

  setTopic(topic: StoredTopic): void {
    this.#topics.set(topic.room, topic);
  }

  topic(room: string): StoredTopic | undefined {
    return this.#topics.get(room);
  }

  removeTopic(room: string): void {
    this.#topics.delete(room);
  }

  topics(): StoredTopic[] {
    return [...this.#topics.values()];
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

/** Why a data file cannot be used; `reason` reads after its path. */
export class DataFileError extends Error {
  override name = "DataFileError";

  constructor(
    readonly path: string,
    /** E.g. "is in use by another chat-server", "is not a linechat data file". */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${path} ${reason}`, options);
  }
}

/** Whether `err` came from the store (SQLite), not from a bug. */
export function isStoreError(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) {
    if (String((e as { code?: unknown }).code).startsWith("ERR_SQLITE")) return true;
  }
  return sqliteError(err) !== undefined;
}

/**
 * A short reason for a store error, for a reply or a log line: SQLite's busy, full,
 * read-only, I/O and damaged-file errors in words, anything else as its message.
 *
 * @example
 * ```ts
 * storeErrorText(err); // "the disk is full"
 * ```
 */
export function storeErrorText(err: unknown): string {
  const known = sqliteError(err);
  return known?.words ?? (err instanceof Error ? err.message : String(err));
}

const SQLITE_BUSY = 5;
const SQLITE_NOTADB = 26;

/** The primary result codes told apart: SQLite's message for each and the words for users. */
const SQLITE_ERRORS: { code: number; sqlite: string; words: string }[] = [
  { code: SQLITE_BUSY, sqlite: "database is locked", words: "the data file is busy" },
  { code: 6, sqlite: "database table is locked", words: "the data file is busy" },
  { code: 8, sqlite: "attempt to write a readonly database", words: "the data file is read-only" },
  { code: 10, sqlite: "disk I/O error", words: "the data file could not be read or written" },
  { code: 11, sqlite: "database disk image is malformed", words: "the data file is damaged" },
  { code: 13, sqlite: "database or disk is full", words: "the disk is full" },
  { code: 14, sqlite: "unable to open database file", words: "the data file cannot be opened" },
  { code: SQLITE_NOTADB, sqlite: "file is not a database", words: "the data file is damaged" },
];

/** Which of SQLITE_ERRORS `err` (or an error it was caused by) is. */
function sqliteError(err: unknown): (typeof SQLITE_ERRORS)[number] | undefined {
  for (let e = err; e instanceof Error; e = e.cause) {
    // node:sqlite gives a statement's error SQLite's extended result code (its low byte is
    // the primary code), an error of exec() only SQLite's message.
    const code = (e as { errcode?: unknown }).errcode;
    const known = typeof code === "number"
      ? SQLITE_ERRORS.find((x) => x.code === (code & 0xff))
      : SQLITE_ERRORS.find((x) => e.message.startsWith(x.sqlite));
    if (known) return known;
  }
  return undefined;
}

/** `PRAGMA application_id` of a linechat data file: "LCHT". */
export const APPLICATION_ID = 0x4c434854;

/** `PRAGMA user_version` of the schema below; see #migrate for older ones. */
export const SCHEMA_VERSION = 1;

/**
 * How long a statement waits for a lock before failing as busy. Short: the store is
 * synchronous, and a server holds its file alone, so only another program can make it wait.
 */
export const BUSY_TIMEOUT_MS = 250;

/**
 * Time one `prune` call may take, in steps of PRUNE_STEP deletions: deleting a 4 KiB
 * message takes ~45 µs, so one call deletes a few hundred of those and far more short ones.
 */
const PRUNE_MS = 10;

/** Messages deleted by one step of `prune`. */
const PRUNE_STEP = 50;

/** Each table of the schema and its columns, as an older linechat file may hold them. */
const TABLES: Record<string, string[]> = {
  messages: ["id", "room", "kind", "sender", "text", "ts"],
  topics: ["room", "topic", "set_by", "ts"],
  bans: ["kind", "target", "until", "reason", "set_by", "ts"],
  accounts: ["key", "name", "hash", "ts"],
  mutes: ["kind", "target", "address", "until", "reason", "set_by", "ts"],
};

const SCHEMA = `
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
`;

/** Options of a SqliteStore: its retention (pass the server's Limits) and how names key. */
export interface SqliteStoreOptions extends Partial<Retention> {
  /** Messages kept per room: the replay length, all that is ever read. */
  historyLines?: number;
  /** The key of a name, for re-keying older files (names.ts's nameKey; tests inject one). */
  nameKey?: (name: string) => string;
}

/**
 * Keeps everything in a SQLite file; survives restarts and `kill -9`. The file is held
 * with an exclusive lock while the store is open (the OS drops it with the process), so a
 * second server on it is refused; another program's database is refused unwritten.
 */
export class SqliteStore implements ChatStore {
  readonly persistent = true;
  readonly #db: DatabaseSync;
  readonly #keep: number;
  readonly #retention: Retention;
  /** Messages in the file, counted at open and kept up to date. */
  #count: number;
  /** Rooms that may hold more than #keep messages. */
  readonly #crowded = new Set<string>();
  readonly #insert: StatementSync;
  readonly #recent: StatementSync;
  readonly #clear: StatementSync;
  readonly #trimRoom: StatementSync;
  readonly #dropOld: StatementSync;
  readonly #dropOldest: StatementSync;
  readonly #setTopic: StatementSync;

  /** Opens (or creates) `path`; throws DataFileError when it cannot be used. */
  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.#keep = options.historyLines ?? DEFAULT_LIMITS.historyLines;
    this.#retention = {
      retainMs: options.retainMs ?? DEFAULT_LIMITS.retainMs,
      retainMessages: options.retainMessages ?? DEFAULT_LIMITS.retainMessages,
    };
    inspect(path);
    try {
      createPrivate(path);
      this.#db = new DatabaseSync(path);
    } catch (err) {
      throw new DataFileError(path, `cannot be used: ${storeErrorText(err)}`, { cause: err });
    }
    try {
      // Exclusive locking: the first transaction's lock is held until close. WAL with
      // synchronous=NORMAL: a committed row survives the process being killed (it is in the
      // OS by then); only a power cut can lose the last commits. The WAL file is truncated
      // back to 4 MiB after each checkpoint.
      this.#db.exec(`
        PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS};
        PRAGMA locking_mode = EXCLUSIVE;
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        PRAGMA journal_size_limit = ${4 * 1024 * 1024};
        BEGIN IMMEDIATE;
      `);
      const version = Number(this.#db.prepare("PRAGMA user_version").get()!.user_version);
      if (version > SCHEMA_VERSION) {
        throw new DataFileError(path, `was written by a newer chat-server (schema ${version})`);
      }
      this.#db.exec(SCHEMA);
      this.#migrate(version, options.nameKey ?? nameKey);
      this.#db.exec(`
        PRAGMA application_id = ${APPLICATION_ID};
        PRAGMA user_version = ${SCHEMA_VERSION};
        COMMIT;
      `);
      this.#count = Number(this.#db.prepare("SELECT count(*) AS n FROM messages").get()!.n);
      const crowded = this.#db.prepare(
        "SELECT room FROM messages GROUP BY room HAVING count(*) > ?",
      ).all(this.#keep);
      for (const { room } of crowded) this.#crowded.add(String(room));
    } catch (err) {
      this.#db.close();
      if (err instanceof DataFileError) throw err;
      throw new DataFileError(path, openFailure(err), { cause: err });
    }
    this.#insert = this.#db.prepare(
      "INSERT INTO messages (room, kind, sender, text, ts) VALUES (?, ?, ?, ?, ?)",
    );
    this.#recent = this.#db.prepare(
      'SELECT room, kind, sender AS "from", text, ts FROM messages WHERE room = ? ORDER BY id DESC LIMIT ?',
    );
    this.#clear = this.#db.prepare("DELETE FROM messages WHERE room = ?");
    // The oldest of a room's messages past the newest ?2 (at most ?3 of them).
    this.#trimRoom = this.#db.prepare(`
      DELETE FROM messages WHERE id IN (
        SELECT id FROM messages WHERE room = ?1 AND id <= (
          SELECT id FROM messages WHERE room = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2
        ) ORDER BY id LIMIT ?3
      )`);
    // Ids grow with time: the oldest ?2 messages, those older than ?1.
    this.#dropOld = this.#db.prepare(
      "DELETE FROM messages WHERE id IN (SELECT id FROM messages ORDER BY id LIMIT ?2) AND ts < ?1",
    );
    this.#dropOldest = this.#db.prepare(
      "DELETE FROM messages WHERE id IN (SELECT id FROM messages ORDER BY id LIMIT ?)",
    );
    this.#setTopic = this.#db.prepare(
      "INSERT INTO topics (room, topic, set_by, ts) VALUES (?, ?, ?, ?) " +
        "ON CONFLICT (room) DO UPDATE SET topic = excluded.topic, set_by = excluded.set_by, ts = excluded.ts",
    );
  }

  /**
   * Brings a file of schema `version` up to SCHEMA_VERSION, inside the open transaction.
   * Version 0 (before application_id): names are keyed again with today's `key`; of names
   * that now share a key, the earliest account and the longest ban are kept.
   */
  #migrate(version: number, key: (name: string) => string): void {
    if (version >= 1) return;
    const accounts = this.#db.prepare("SELECT name, hash, ts FROM accounts ORDER BY ts, key")
      .all();
    this.#db.exec("DELETE FROM accounts");
    const account = this.#db.prepare(
      "INSERT OR IGNORE INTO accounts (key, name, hash, ts) VALUES (?, ?, ?, ?)",
    );
    for (const a of accounts) account.run(key(String(a.name)), a.name, a.hash, a.ts);
    const bans = this.#db.prepare(
      "SELECT target, until, reason, set_by, ts FROM bans WHERE kind = 'name' " +
        "ORDER BY until IS NOT NULL, until DESC, ts",
    ).all();
    this.#db.exec("DELETE FROM bans WHERE kind = 'name'");
    const ban = this.#db.prepare(
      "INSERT OR IGNORE INTO bans (kind, target, until, reason, set_by, ts) " +
        "VALUES ('name', ?, ?, ?, ?, ?)",
    );
    for (const b of bans) ban.run(key(String(b.target)), b.until, b.reason, b.set_by, b.ts);
  }

  append(m: StoredMessage): void {
    this.#insert.run(m.room, m.kind, m.from, m.text, m.ts);
    this.#count++;
    this.#crowded.add(m.room);
  }

  recent(room: string, limit: number): StoredMessage[] {
    if (limit <= 0) return [];
    const rows = this.#recent.all(room, limit) as unknown as StoredMessage[];
    return rows.reverse().map((r) => ({ ...r }));
  }

  clearHistory(room: string): void {
    this.#count -= Number(this.#clear.run(room).changes);
  }

  forget(_room: string): void {
    // History on disk stays, bounded by prune.
  }

  prune(now: number): void {
    const start = performance.now();
    while (this.#pruneStep(now) && performance.now() - start < PRUNE_MS);
  }

  /** Deletes up to PRUNE_STEP messages past the retention; false when there were none. */
  #pruneStep(now: number): boolean {
    let budget = PRUNE_STEP;
    const deleted = (statement: StatementSync, ...args: (string | number)[]) => {
      const n = Number(statement.run(...args).changes);
      this.#count -= n;
      budget -= n;
      return n;
    };
    const { retainMs, retainMessages } = this.#retention;
    if (retainMs > 0) deleted(this.#dropOld, now - retainMs, budget);
    for (const room of this.#crowded) {
      if (budget === 0) break;
      const limit = budget;
      // Fewer than the limit deleted: the room is down to #keep.
      if (deleted(this.#trimRoom, room, this.#keep, limit) < limit) this.#crowded.delete(room);
    }
    const excess = retainMessages > 0 ? this.#count - retainMessages : 0;
    if (excess > 0 && budget > 0) deleted(this.#dropOldest, Math.min(excess, budget));
    return budget < PRUNE_STEP;
  }

  setTopic(t: StoredTopic): void {
    this.#setTopic.run(t.room, t.topic, t.by, t.ts);
  }

  topic(room: string): StoredTopic | undefined {
    const row = this.#db.prepare("SELECT room, topic, set_by AS by, ts FROM topics WHERE room = ?")
      .get(room);
    return row ? { ...(row as unknown as StoredTopic) } : undefined;
  }

  removeTopic(room: string): void {
    this.#db.prepare("DELETE FROM topics WHERE room = ?").run(room);
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

/**
 * Throws DataFileError unless `path` is missing, empty or linechat's, found without writing:
 * its header's application_id, and for 0 (a file from before it) its tables, read-only.
 */
function inspect(path: string): void {
  const header = new Uint8Array(100);
  let size = 0;
  try {
    using file = Deno.openSync(path);
    size = file.readSync(header) ?? 0; // A regular file reads in full up to its end.
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return;
    throw new DataFileError(path, `cannot be used: ${storeErrorText(err)}`, { cause: err });
  }
  if (size === 0) return;
  const magic = new TextDecoder().decode(header.subarray(0, 16));
  const id = size === header.length ? new DataView(header.buffer).getUint32(68) : -1;
  if (magic !== "SQLite format 3\0" || id === -1) {
    throw new DataFileError(path, "is not a linechat data file");
  }
  if (id === APPLICATION_ID) return;
  if (id !== 0 || !onlyOurTables(path)) {
    throw new DataFileError(path, "is not a linechat data file");
  }
}

/**
 * Creates `path` readable by its owner only (0600), unless it exists: SQLite gives its -wal
 * and -shm files the mode of the database file, so they are private too.
 */
function createPrivate(path: string): void {
  try {
    Deno.openSync(path, { write: true, createNew: true, mode: 0o600 }).close();
  } catch (err) {
    if (!(err instanceof Deno.errors.AlreadyExists)) throw err;
  }
}

/** Whether every table in `path` is one of ours with our columns (none: an empty file). */
function onlyOurTables(path: string): boolean {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const columns = db.prepare("SELECT name FROM pragma_table_info(?) ORDER BY cid");
    return db.prepare(
      "SELECT name FROM sqlite_schema WHERE type IN ('table', 'view', 'trigger') " +
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    ).all().every(({ name }) =>
      String(TABLES[String(name)]) === String(columns.all(name).map((c) => c.name))
    );
  } catch (err) {
    throw new DataFileError(path, openFailure(err), { cause: err });
  } finally {
    db.close();
  }
}

/** The reason a data file could not be opened, after its path. */
function openFailure(err: unknown): string {
  const code = sqliteError(err)?.code;
  if (code === SQLITE_BUSY) return "is in use by another chat-server";
  if (code === SQLITE_NOTADB) return "is not a linechat data file";
  return `cannot be used: ${storeErrorText(err)}`;
}
