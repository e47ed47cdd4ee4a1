// Where what lasts is kept: room history and topics. MemoryStore keeps them for the life
// of the process; SqliteStore keeps them in an embedded node:sqlite file (--data), each
// message committed before append() returns. Routing and rendering are the hub's.

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

/** The hub's persistence. Calls are synchronous: a message is stored before it is sent. */
export interface ChatStore {
  /** Keeps a message; durable (where the store is) when this returns. */
  append(message: StoredMessage): void;
  /** The last `limit` messages of `room`, oldest first. */
  recent(room: string, limit: number): StoredMessage[];
  setTopic(topic: StoredTopic): void;
  /** Every topic set, by room. */
  topics(): StoredTopic[];
  close(): void;
}

/** Keeps the last `keep` messages per room in memory. */
export class MemoryStore implements ChatStore {
  readonly #keep: number;
  readonly #history = new Map<string, StoredMessage[]>();
  readonly #topics = new Map<string, StoredTopic>();

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

  topics(): StoredTopic[] {
    return [...this.#topics.values()];
  }

  close(): void {}
}

/** Keeps history and topics in a SQLite file; survives restarts and `kill -9`. */
export class SqliteStore implements ChatStore {
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

  topics(): StoredTopic[] {
    const rows = this.#db.prepare("SELECT room, topic, set_by AS by, ts FROM topics").all();
    return (rows as unknown as StoredTopic[]).map((r) => ({ ...r }));
  }

  close(): void {
    this.#db.close();
  }
}
