// Bans and mutes: who may not connect, take a name or speak, and until when. Bans are
// kept in the store (so --data keeps them across restarts); mutes last while the server
// runs. Pure: callers pass the time. Who may moderate is the hub's business.

import type { ChatStore, StoredBan } from "./store.ts";

/** A mute on a name key. */
export interface Mute {
  until?: number;
  reason?: string;
}

/** When a ban or mute ends, for people: "for good" or "until 2026-11-21 15:04". */
export function untilText(until: number | undefined): string {
  if (until === undefined) return "for good";
  const d = new Date(until);
  const pad = (n: number) => String(n).padStart(2, "0");
  return `until ${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${
    pad(d.getHours())
  }:${pad(d.getMinutes())}`;
}

/** The bans and mutes of one server. */
export class Moderation {
  readonly #store: ChatStore;
  /** Bans by `kind target`, loaded from the store. */
  readonly #bans = new Map<string, StoredBan>();
  readonly #mutes = new Map<string, Mute>();

  constructor(store: ChatStore) {
    this.#store = store;
    for (const b of store.bans()) this.#bans.set(`${b.kind} ${b.target}`, b);
  }

  /** Bans a name key or an address; replaces an earlier ban of the same target. */
  ban(ban: StoredBan): void {
    this.#store.addBan(ban);
    this.#bans.set(`${ban.kind} ${ban.target}`, ban);
  }

  /** Lifts a ban; false when there was none (or it had run out). */
  unban(kind: StoredBan["kind"], target: string, now: number): boolean {
    const active = this.banned(kind, target, now) !== undefined;
    this.#bans.delete(`${kind} ${target}`);
    this.#store.removeBan(kind, target);
    return active;
  }

  /** The ban in force on `target`, if any; a ban that ran out is forgotten here. */
  banned(kind: StoredBan["kind"], target: string, now: number): StoredBan | undefined {
    const ban = this.#bans.get(`${kind} ${target}`);
    if (ban?.until !== undefined && ban.until <= now) {
      this.#bans.delete(`${kind} ${target}`);
      this.#store.removeBan(kind, target);
      return undefined;
    }
    return ban;
  }

  /** Every ban in force, oldest first. */
  bans(now: number): StoredBan[] {
    return [...this.#bans.values()]
      .filter((b) => this.banned(b.kind, b.target, now) !== undefined)
      .sort((a, b) => a.ts - b.ts);
  }

  mute(key: string, mute: Mute): void {
    this.#mutes.set(key, mute);
  }

  unmute(key: string): boolean {
    return this.#mutes.delete(key);
  }

  /** The mute in force on a name key, if any. */
  muted(key: string, now: number): Mute | undefined {
    const mute = this.#mutes.get(key);
    if (mute?.until !== undefined && mute.until <= now) {
      this.#mutes.delete(key);
      return undefined;
    }
    return mute;
  }

  /** Moves a mute along with a rename, so renaming does not lift it. */
  renamed(fromKey: string, toKey: string): void {
    const mute = this.#mutes.get(fromKey);
    if (mute) {
      this.#mutes.delete(fromKey);
      this.#mutes.set(toKey, mute);
    }
  }
}
