// The store of a node in a cluster: what lasts (bans, mutes, owned names) lives in the engine
// as shared records, and a copy in memory answers the hub at once. The copy is loaded before
// the node serves and follows every node's changes; an operator's change is written to the
// engine first (`share`) and applied here only once it is there. History stays in memory.

import type { Engine, RecordChange, SharedRecord } from "../engine/engine.ts";
import { parseIp } from "../../protocol/address.ts";
import {
  MemoryStore,
  type Retention,
  type StoredAccount,
  type StoredBan,
  type StoredMute,
} from "../store.ts";
import { describe } from "./failures.ts";

/** A shared record this store knows, decoded: set (`record`) or removed, by `node`. */
export type SharedChange =
  | { kind: "ban"; key: string; record?: StoredBan; node: string }
  | { kind: "mute"; key: string; record?: StoredMute; node: string }
  | { kind: "account"; key: string; record?: StoredAccount; node: string };

/** The longest reason kept in a record (UTF-16 units); an operator's line is shorter. */
const MAX_REASON = 8192;
/** The longest name, name key, operator name or address range in a record. */
const MAX_SHORT = 256;

/** The record key of a ban or mute: `kind target`, as Moderation keys them. */
export function sanctionKey(record: { kind: string; target: string }): string {
  return `${record.kind} ${record.target}`;
}

/** A copy in memory of what the cluster keeps, written through to the engine. */
export class ClusterStore extends MemoryStore {
  /** Owned names outlast a node: Redis keeps them. */
  override readonly persistent = true;
  readonly #engine: Engine;
  readonly #log: (line: string) => void;
  /** Each record's value as the engine has it, by `kind\nkey`: the guard of a removal. */
  readonly #raw = new Map<string, string>();
  /** While above 0, writes stay in the copy (they are in the engine already). */
  #local = 0;
  #listener: ((change: SharedChange) => void) | undefined;

  private constructor(
    engine: Engine,
    keep: number,
    retention: Retention,
    log: (l: string) => void,
  ) {
    super(keep, retention);
    this.#engine = engine;
    this.#log = log;
  }

  /**
   * Loads every shared record and follows every node's changes from then on; rejects when the
   * engine cannot be read. A change that comes while loading wins over what was loaded.
   */
  static async open(
    engine: Engine,
    keep: number,
    retention: Retention,
    log: (line: string) => void,
  ): Promise<ClusterStore> {
    const store = new ClusterStore(engine, keep, retention, log);
    let touched: Set<string> | undefined = new Set<string>();
    await engine.listenRecords((change) => {
      touched?.add(`${change.kind}\n${change.key}`);
      store.#received(change);
    });
    const records = await engine.records();
    for (const r of records) {
      if (touched.has(`${r.kind}\n${r.key}`)) continue;
      store.#received({ ...r, node: engine.node });
    }
    touched = undefined;
    return store;
  }

  /** Calls `listener` for each change of a ban, mute or owned name after the start, instead of applying it here. */
  onChange(listener: (change: SharedChange) => void): void {
    this.#listener = listener;
  }

  /**
   * Writes a ban, mute or owned name to the engine (`record` absent: removes it), which hands
   * it to every node; rejects when the engine is away, and then nothing changed anywhere.
   */
  async share(
    kind: SharedChange["kind"],
    key: string,
    record: StoredBan | StoredMute | StoredAccount | undefined,
  ): Promise<void> {
    if (record === undefined) await this.#engine.removeRecord(kind, key);
    else await this.#engine.putRecord(kind, key, JSON.stringify(record));
  }

  /**
   * Replaces a ban or mute in the engine while it still holds the value this copy has (a
   * name mute given its user's address by the node the user is on); a failure is logged.
   */
  amend(kind: "ban" | "mute", key: string, record: StoredBan | StoredMute): void {
    const raw = this.#raw.get(`${kind}\n${key}`);
    if (raw === undefined) return;
    this.#engine.putRecord(kind, key, JSON.stringify(record), raw).catch((err) =>
      this.#log(`engine: cannot share a ${kind} change: ${describe(err)}`)
    );
  }

  /** Runs `fn` with writes kept in the copy (what it writes is in the engine already). */
  local<T>(fn: () => T): T {
    this.#local++;
    try {
      return fn();
    } finally {
      this.#local--;
    }
  }

  /**
   * Writes every ban, mute and owned name of the copy back to the engine where it has none
   * (after Redis restarted empty); resolves with how many were written.
   */
  reseed(): Promise<number> {
    const records: SharedRecord[] = [
      ...this.bans().map((b) => ({ kind: "ban", key: sanctionKey(b), value: JSON.stringify(b) })),
      ...this.mutes().map((m) => ({ kind: "mute", key: sanctionKey(m), value: JSON.stringify(m) })),
      ...this.#accounts().map((a) => ({ kind: "account", key: a.key, value: JSON.stringify(a) })),
    ];
    return this.#engine.reseedRecords(records);
  }

  /** Every owned name in the copy. */
  #accounts(): StoredAccount[] {
    const out: StoredAccount[] = [];
    for (const field of this.#raw.keys()) {
      if (!field.startsWith("account\n")) continue;
      const a = this.account(field.slice("account\n".length));
      if (a) out.push(a);
    }
    return out;
  }

  /** A change from the engine (or a record loaded): checked, then applied or handed on. */
  #received(change: RecordChange): void {
    const field = `${change.kind}\n${change.key}`;
    const decoded = decode(change);
    if (decoded === undefined) {
      if (change.kind === "ban" || change.kind === "mute" || change.kind === "account") {
        this.#log(`engine: a ${change.kind} record that is not well formed was skipped`);
      }
      return;
    }
    if (change.value === undefined) this.#raw.delete(field);
    else this.#raw.set(field, change.value);
    if (this.#listener !== undefined) {
      try {
        this.#listener(decoded);
      } catch (err) {
        this.#log(`engine: a ${change.kind} change could not be applied: ${describe(err)}`);
      }
      return;
    }
    this.local(() => this.apply(decoded));
  }

  /** Applies a decoded change to the copy (and only there). */
  apply(change: SharedChange): void {
    this.local(() => {
      const kind = change.kind;
      if (kind === "account") {
        if (change.record) this.setAccount(change.record);
        else this.removeAccount(change.key);
        return;
      }
      const [k, ...rest] = change.key.split(" ");
      const target = rest.join(" ");
      if (kind === "ban") {
        if (change.record) this.addBan(change.record);
        else this.removeBan(k as StoredBan["kind"], target);
      } else if (change.record) this.addMute(change.record);
      else this.removeMute(k as StoredMute["kind"], target);
    });
  }

  // Writes made by the hub outside `local` (a mute moved with a rename, a record that ran
  // out) go through to the engine, logged when it is away; a removal only while the engine
  // still has the value this copy had, so it never undoes a newer change.

  override addBan(ban: StoredBan): void {
    super.addBan(ban);
    this.#through("ban", sanctionKey(ban), ban);
  }

  override removeBan(kind: StoredBan["kind"], target: string): boolean {
    const had = super.removeBan(kind, target);
    this.#through("ban", `${kind} ${target}`, undefined);
    return had;
  }

  override addMute(mute: StoredMute): void {
    super.addMute(mute);
    this.#through("mute", sanctionKey(mute), mute);
  }

  override removeMute(kind: StoredMute["kind"], target: string): boolean {
    const had = super.removeMute(kind, target);
    this.#through("mute", `${kind} ${target}`, undefined);
    return had;
  }

  override setAccount(account: StoredAccount): void {
    super.setAccount(account);
    this.#through("account", account.key, account);
  }

  override removeAccount(key: string): boolean {
    const had = super.removeAccount(key);
    this.#through("account", key, undefined);
    return had;
  }

  #through(kind: string, key: string, record: object | undefined): void {
    if (this.#local > 0) return;
    const failed = (err: unknown) =>
      this.#log(`engine: cannot share a ${kind} change: ${describe(err)}`);
    if (record !== undefined) {
      this.#engine.putRecord(kind, key, JSON.stringify(record)).catch(failed);
      return;
    }
    const raw = this.#raw.get(`${kind}\n${key}`);
    if (raw !== undefined) this.#engine.removeRecord(kind, key, raw).catch(failed);
  }
}

/** A record change decoded, or undefined when its kind is not ours or its value is not well formed. */
export function decode(change: RecordChange): SharedChange | undefined {
  const { kind, key, node } = change;
  if (kind !== "ban" && kind !== "mute" && kind !== "account") return undefined;
  if (change.value === undefined) {
    if (kind !== "account" && !/^(name|ip) ./.test(key)) return undefined;
    return { kind, key, node };
  }
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(change.value);
  } catch {
    return undefined;
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
  if (kind === "account") {
    const account = accountOf(v);
    return account?.key === key ? { kind, key, record: account, node } : undefined;
  }
  const sanction = sanctionOf(v, kind === "mute");
  if (sanction === undefined || sanctionKey(sanction) !== key) return undefined;
  return kind === "ban"
    ? { kind, key, record: sanction, node }
    : { kind, key, record: sanction, node };
}

const text = (v: unknown, max: number): v is string => typeof v === "string" && v.length <= max;
const time = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);

/** A ban or mute from a record's JSON, its addresses parsed, or undefined. */
function sanctionOf(v: Record<string, unknown>, mute: boolean): StoredMute | undefined {
  if (v.kind !== "name" && v.kind !== "ip") return undefined;
  if (!text(v.target, MAX_SHORT) || v.target === "" || !text(v.by, MAX_SHORT) || !time(v.ts)) {
    return undefined;
  }
  if (v.until !== undefined && !time(v.until)) return undefined;
  if (v.reason !== undefined && !text(v.reason, MAX_REASON)) return undefined;
  if (v.address !== undefined && (!mute || !text(v.address, MAX_SHORT))) return undefined;
  if (v.kind === "ip" && !parses(v.target)) return undefined;
  if (typeof v.address === "string" && !parses(v.address)) return undefined;
  return {
    kind: v.kind,
    target: v.target,
    by: v.by,
    ts: v.ts,
    ...(v.address === undefined ? {} : { address: v.address as string }),
    ...(v.until === undefined ? {} : { until: v.until }),
    ...(v.reason === undefined ? {} : { reason: v.reason as string }),
  };
}

/** An owned name from a record's JSON, or undefined. The hash is never logged. */
function accountOf(v: Record<string, unknown>): StoredAccount | undefined {
  if (!text(v.key, MAX_SHORT) || !text(v.name, MAX_SHORT) || !time(v.ts)) return undefined;
  if (!text(v.hash, 1024) || !v.hash.startsWith("scrypt$")) return undefined;
  return { key: v.key, name: v.name, hash: v.hash, ts: v.ts };
}

function parses(address: string): boolean {
  try {
    parseIp(address);
    return true;
  } catch {
    return false;
  }
}
