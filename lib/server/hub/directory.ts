// Who is online by what name: named clients by name key (case and look-alikes folded), free
// guest names, and a rename's bookkeeping of /ignore lists and /reply partners.
// Name rules are names.ts's; bans, registered names and telling anyone are the hub's.

import type { Client } from "./client.ts";
import { looksAlike, nameKey } from "../../protocol/names.ts";

/** The named clients, found by any spelling of their name that folds to the same key. */
export class Directory {
  readonly #byKey = new Map<string, Client>();
  #guestCounter = 0;

  /** How many clients have a name. */
  get size(): number {
    return this.#byKey.size;
  }

  /** Named clients by name key, in the order they took the name they have. */
  get byKey(): ReadonlyMap<string, Client> {
    return this.#byKey;
  }

  /** The client named `name` (any spelling with the same key), if online. */
  get(name: string): Client | undefined {
    return this.#byKey.get(nameKey(name));
  }

  /** Whether someone online has a name with the key of `name`. */
  has(name: string): boolean {
    return this.#byKey.has(nameKey(name));
  }

  /** The named clients, in the order they took the name they have. */
  values(): IterableIterator<Client> {
    return this.#byKey.values();
  }

  /** Lists a client that has just taken its first name. */
  add(client: Client): void {
    this.#byKey.set(nameKey(client.name!), client);
  }

  /** Forgets the client named `name`. */
  remove(name: string): void {
    this.#byKey.delete(nameKey(name));
  }

  /**
   * Why `name` cannot be `client`'s because someone else online holds its key (a look-alike
   * is named as such), or undefined.
   */
  taken(name: string, client: Client): string | undefined {
    const holder = this.get(name);
    if (!holder || holder === client) return undefined;
    return looksAlike(name, holder.name!)
      ? `the name ${name} looks too much like ${holder.name} (online); choose another`
      : `the name ${name} is taken; choose another`;
  }

  /**
   * Renames a listed client. Ignoring and replying follow the person, not the old name:
   * whoever ignored it or would /reply to it now does so under `name`.
   */
  rename(client: Client, name: string): void {
    const previous = client.name!;
    this.#byKey.delete(nameKey(previous));
    client.name = name;
    this.#byKey.set(nameKey(name), client);
    for (const c of this.#byKey.values()) {
      if (c.ignored?.delete(nameKey(previous))) c.ignored.add(nameKey(name));
      if (c.lastPmFrom === previous) c.lastPmFrom = name;
    }
  }

  /** The first `guest-N` name nobody has. */
  freeGuestName(): string {
    for (;;) {
      const name = `guest-${++this.#guestCounter}`;
      if (!this.#byKey.has(name)) return name;
    }
  }
}
