// Bans and mutes: who may not connect, take a name or be heard, and until when. Both are
// kept in the store (so --data keeps them across restarts) and match a name key or an
// address range (address.ts). Pure: callers pass the time. Who may moderate is the hub's.

import {
  AddressError,
  canonicalIp,
  contains,
  formatIp,
  hostAddress,
  type IpRange,
  meantAsAddress,
  parseIp,
} from "../protocol/address.ts";
import { nameKey, nameProblem } from "../protocol/names.ts";
import type { ChatStore, StoredBan, StoredMute } from "./store.ts";

/**
 * When a ban or mute ends, for people: "for good", "until 2026-11-21 15:04", or to the second
 * when that is less than a day from `now` ("until 2026-11-21 15:04:30").
 */
export function untilText(until: number | undefined, now = Date.now()): string {
  if (until === undefined) return "for good";
  const d = new Date(until);
  const pad = (n: number) => String(n).padStart(2, "0");
  const seconds = until - now < 86_400_000 ? `:${pad(d.getSeconds())}` : "";
  return `until ${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${
    pad(d.getHours())
  }:${pad(d.getMinutes())}${seconds}`;
}

/** What a ban or mute is on: a name key, or an address or range in canonical form. */
export interface SanctionTarget {
  kind: "name" | "ip";
  target: string;
}

/**
 * The target an operator typed: an address or range in any spelling (made canonical) or a
 * name (made its key); a `string` saying what is wrong otherwise. With `maxNameLength` a
 * name must follow the name rules (a new ban or mute); without, any name is looked up.
 *
 * @example
 * ```ts
 * parseTarget("0:0:0:0:0:0:0:1", 24); // { kind: "ip", target: "::1" }
 * parseTarget("Troll", 24);           // { kind: "name", target: "troll" }
 * parseTarget("127.0.0.05", 24);      // 'invalid address "127.0.0.05": "05" has a leading ...'
 * ```
 */
export function parseTarget(text: string, maxNameLength?: number): SanctionTarget | string {
  if (meantAsAddress(text)) {
    try {
      return { kind: "ip", target: canonicalIp(text) };
    } catch (err) {
      if (err instanceof AddressError) return `invalid address "${text}": ${err.message}`;
      throw err;
    }
  }
  const problem = maxNameLength === undefined ? undefined : nameProblem(text, maxNameLength);
  return problem ? `invalid name: ${problem}` : { kind: "name", target: nameKey(text) };
}

/** A ban or mute as held here. */
interface Entry<T> {
  /** The record, its address target in canonical form. */
  record: T;
  /** The addresses it covers, if any. */
  range: IpRange | undefined;
  /** The target as the store has it (an older version kept addresses as typed). */
  stored: string;
}

type Sanction = StoredBan | StoredMute;

/** The address a ban or mute covers: an "ip" one's target, a name mute's address. */
function addressOf(record: Sanction): string | undefined {
  return record.kind === "ip" ? record.target : "address" in record ? record.address : undefined;
}

/**
 * The entry for a record, its address made canonical; `stored` is the target in the store
 * when it is there already. Throws {@link AddressError} if its address does not parse.
 */
function entry<T extends Sanction>(record: T, stored?: string): Entry<T> {
  const address = addressOf(record);
  const range = address === undefined ? undefined : parseIp(address);
  const canonical = range && formatIp(range);
  const target = record.kind === "ip" ? canonical! : record.target;
  const fixed = canonical && record.kind === "name" ? { address: canonical } : {};
  return { record: { ...record, target, ...fixed }, range, stored: stored ?? target };
}

/** The bans and mutes of one server. */
export class Moderation {
  readonly #store: ChatStore;
  /** Bans by `kind target`, loaded from the store. */
  readonly #bans = new Map<string, Entry<StoredBan>>();
  /** Mutes by `kind target`, loaded from the store. */
  readonly #mutes = new Map<string, Entry<StoredMute>>();
  readonly #dropBan = (kind: StoredBan["kind"], target: string) =>
    this.#store.removeBan(kind, target);
  readonly #dropMute = (kind: StoredMute["kind"], target: string) =>
    this.#store.removeMute(kind, target);

  constructor(store: ChatStore) {
    this.#store = store;
    this.#load(this.#bans, store.bans(), this.#dropBan);
    this.#load(this.#mutes, store.mutes(), this.#dropMute);
  }

  /**
   * Takes in stored records. One whose address does not parse (an older version took
   * `127.0.0.05`) never covered anything: it is dropped, from the store too if it can be.
   */
  #load<T extends Sanction>(map: Map<string, Entry<T>>, records: T[], drop: Drop): void {
    for (const record of records) {
      try {
        const e = entry(record, record.target);
        map.set(`${record.kind} ${e.record.target}`, e);
      } catch {
        quietly(() => drop(record.kind, record.target));
      }
    }
  }

  /** Bans a name key or an address range (canonical); replaces an earlier ban of it. */
  ban(ban: StoredBan): void {
    this.#put(this.#bans, entry(ban), (b) => this.#store.addBan(b), this.#dropBan);
  }

  /** Lifts a ban; false when there was none (or it had run out). Throws if the store does. */
  unban(kind: StoredBan["kind"], target: string, now: number): boolean {
    return this.#lift(this.#bans, `${kind} ${target}`, now, this.#dropBan);
  }

  /**
   * The ban in force on a name key (`kind` "name") or on an address (`kind` "ip": Deno's
   * hostname or a peer's `host:port`; the first ban whose range holds it). Never throws.
   */
  banned(kind: StoredBan["kind"], target: string, now: number): StoredBan | undefined {
    if (kind === "name") return this.#active(this.#bans, `name ${target}`, now, this.#dropBan);
    const address = this.#bans.size === 0 ? undefined : hostAddress(target);
    if (address === undefined) return undefined;
    for (const [key, { range }] of this.#bans) {
      if (range && contains(range, address)) {
        const ban = this.#active(this.#bans, key, now, this.#dropBan);
        if (ban) return ban;
      }
    }
    return undefined;
  }

  /** Whether a ban or mute (`list`) of exactly this target is in force. Never throws. */
  holds(list: "ban" | "mute", kind: StoredBan["kind"], target: string, now: number): boolean {
    return list === "ban"
      ? this.#active(this.#bans, `${kind} ${target}`, now, this.#dropBan) !== undefined
      : this.#active(this.#mutes, `${kind} ${target}`, now, this.#dropMute) !== undefined;
  }

  /** Every ban in force, oldest first. */
  bans(now: number): StoredBan[] {
    return [...this.#bans.keys()]
      .map((key) => this.#active(this.#bans, key, now, this.#dropBan))
      .filter((b) => b !== undefined)
      .sort((a, b) => a.ts - b.ts);
  }

  /**
   * Mutes a name key (and the canonical address in `address`, when the user was online) or
   * an address range; replaces an earlier mute of the same target. Throws if the store does.
   */
  mute(mute: StoredMute): void {
    this.#put(this.#mutes, entry(mute), (m) => this.#store.addMute(m), this.#dropMute);
  }

  /** Lifts a mute; false when there was none (or it had run out). Throws if the store does. */
  unmute(kind: StoredMute["kind"], target: string, now: number): boolean {
    return this.#lift(this.#mutes, `${kind} ${target}`, now, this.#dropMute);
  }

  /**
   * The mute in force on a user: on their name key, or on a range holding their address
   * (Deno's hostname or a peer's `host:port`). Never throws.
   */
  muted(key: string | undefined, address: string, now: number): StoredMute | undefined {
    if (this.#mutes.size === 0) return undefined;
    let ip: IpRange | undefined | null = null;
    for (const [k, { record, range }] of this.#mutes) {
      let hit = record.kind === "name" && record.target === key;
      if (!hit && range) {
        if (ip === null) ip = hostAddress(address);
        hit = ip !== undefined && contains(range, ip);
      }
      const mute = hit ? this.#active(this.#mutes, k, now, this.#dropMute) : undefined;
      if (mute) return mute;
    }
    return undefined;
  }

  /** Moves a name mute along with a rename, so renaming does not lift it. Never throws. */
  renamed(fromKey: string, toKey: string): void {
    const from = this.#mutes.get(`name ${fromKey}`);
    if (!from || this.#mutes.has(`name ${toKey}`)) return;
    const record = { ...from.record, target: toKey };
    this.#mutes.delete(`name ${fromKey}`);
    this.#mutes.set(`name ${toKey}`, { record, range: from.range, stored: toKey });
    quietly(() => {
      this.#store.removeMute("name", from.stored);
      this.#store.addMute(record);
    });
  }

  /** Keeps a record, in the store first; an older spelling of its target is dropped. */
  #put<T extends Sanction>(
    map: Map<string, Entry<T>>,
    e: Entry<T>,
    add: (record: T) => void,
    drop: Drop,
  ): void {
    add(e.record);
    const key = `${e.record.kind} ${e.record.target}`;
    const old = map.get(key);
    map.set(key, e);
    if (old && old.stored !== e.stored) quietly(() => drop(old.record.kind, old.stored));
  }

  /** Removes a record, from the store first; whether it was in force. */
  #lift<T extends Sanction>(
    map: Map<string, Entry<T>>,
    key: string,
    now: number,
    drop: Drop,
  ): boolean {
    const e = map.get(key);
    if (!e) return false;
    const active = this.#active(map, key, now, () => {}) !== undefined;
    drop(e.record.kind, e.stored);
    map.delete(key);
    return active;
  }

  /**
   * The record under `key` if it is in force. One that ran out is forgotten here and in the
   * store; when the store cannot drop it now, it is treated as expired all the same.
   */
  #active<T extends Sanction>(
    map: Map<string, Entry<T>>,
    key: string,
    now: number,
    drop: Drop,
  ): T | undefined {
    const e = map.get(key);
    if (e?.record.until === undefined || e.record.until > now) return e?.record;
    map.delete(key);
    quietly(() => drop(e.record.kind, e.stored));
    return undefined;
  }
}

/** Removes a record from the store. */
type Drop = (kind: Sanction["kind"], target: string) => unknown;

/** Runs a store write that may fail without harm (it is tried again on a later start). */
function quietly(write: () => void): void {
  try {
    write();
  } catch {
    // The store is busy or gone; what is in memory holds while the server runs.
  }
}
