// Connections, from arriving to leaving: a newcomer greeted and asked for the server's password
// or a name (or given one), timeouts for no name and for idleness, kicks, and the bookkeeping
// when one closes (its name freed, one quit notice per roommate, memory after a burst).
// The socket behind each is session.ts's; naming and prompts are naming.ts's and prompts.ts's.

import { Client, type Peer } from "./client.ts";
import type { OutputMode } from "../../protocol/events.ts";
import type { Limits } from "../limits.ts";
import { sanitizeLabel } from "../../protocol/sanitize.ts";
import type { Delivery } from "./delivery.ts";
import type { Directory } from "./directory.ts";
import type { Flood } from "./flood.ts";
import type { Naming } from "./naming.ts";
import type { PromptMachine } from "./prompts.ts";
import type { Rooms } from "./rooms.ts";
import type { Cluster } from "./cluster.ts";
import { nameKey } from "../../protocol/names.ts";

/** A peak of connections that, once half of them have closed, was a burst worth reclaiming. */
export const RECLAIM_AFTER_CONNECTIONS = 20;

/** What the connections' bookkeeping works with; the hub gives its own parts. */
export interface ConnectionsContext {
  limits: Limits;
  version: string;
  /** Every connection, named or not; added to and removed from here. */
  clients: Set<Client>;
  names: Directory;
  rooms: Rooms;
  out: Delivery;
  flood: Pick<Flood, "pace">;
  prompts: Pick<PromptMachine, "askName" | "askPassword">;
  naming: Pick<Naming, "guest">;
  /** Names across nodes; absent on a single node. */
  cluster?: Cluster;
  /** Whether every client must give the server's password before choosing a name. */
  password: boolean;
  /** Give each newcomer a free `guest-N` name at once (seed 001). */
  autoName: boolean;
  log(line: string): void;
  /** How the log names a client. */
  who(client: Client): string;
  /** Reclaims memory once things settle. */
  reclaim(): void;
  /** The connect hook. */
  connected(info: { address: string }): void;
  /** The leave hook: a named client went. */
  left(info: { name: string; reason?: string }): void;
  /** The disconnect hook. */
  disconnected(info: { address: string; name?: string; reason?: string }): void;
}

/** The connections open: their arrival, their time limits and their end. */
export class Connections {
  readonly #ctx: ConnectionsContext;
  /** Most connections open since memory was last reclaimed. */
  #peak = 0;

  /** Works on `ctx`. */
  constructor(ctx: ConnectionsContext) {
    this.#ctx = ctx;
  }

  /** Names online, in the order they connected (a rename keeps the place). */
  get names(): string[] {
    const names: string[] = [];
    for (const c of this.#ctx.clients) if (c.name !== undefined) names.push(c.name);
    return names;
  }

  /**
   * Registers a new connection: greets it and asks for the password or a name (or gives one).
   * A connection that speaks JSON from its first byte (the web door's) starts in `mode`.
   */
  connect(peer: Peer, now: number, mode: OutputMode = "text"): Client {
    const { clients, version } = this.#ctx;
    const client = new Client(peer, this.#ctx.limits, now);
    client.mode = mode;
    clients.add(client);
    this.#peak = Math.max(this.#peak, clients.size);
    this.#ctx.log(`connect ${peer.address} (${clients.size} connections)`);
    this.#ctx.connected({ address: peer.address });
    this.#ctx.out.send(client, {
      type: "welcome",
      ts: Date.now(),
      server: "linechat",
      version,
      text: `welcome to linechat ${version} (${this.#ctx.names.size} online)`,
      ...this.#ctx.flood.pace,
    });
    if (this.#ctx.password) {
      client.prompt = { for: "password", about: "server" };
      this.#ctx.prompts.askPassword(client);
    } else {
      this.admitted(client);
    }
    return client;
  }

  /** A client is in (no password needed, or it gave it): it gets a name or is asked for one. */
  admitted(client: Client): void {
    if (this.#ctx.autoName) {
      client.prompt = { for: "ready" };
      this.#ctx.naming.guest(client);
    } else {
      client.prompt = { for: "name" };
      this.#ctx.prompts.askName(client);
    }
  }

  /**
   * Forgets a connection that has closed; those who shared a room with it see it leave, once
   * each. After a burst of connections is over, memory is reclaimed. Safe to call twice.
   */
  disconnect(client: Client, reason?: string): void {
    const { clients } = this.#ctx;
    if (!clients.delete(client)) return;
    client.closing = true;
    clearTimeout(client.timer);
    if (this.#peak >= RECLAIM_AFTER_CONNECTIONS && clients.size <= this.#peak / 2) {
      // A burst of connections is over: give its memory back once things settle.
      this.#peak = clients.size;
      this.#ctx.reclaim();
    }
    const name = client.name;
    if (name !== undefined) {
      this.#ctx.names.remove(name);
      if (this.#ctx.cluster && !this.#ctx.names.has(name)) this.#ctx.cluster.release(nameKey(name));
      const count = this.#ctx.names.size;
      this.#ctx.log(`leave ${name}${reason ? ` (${reason})` : ""} (${count} online)`);
      // One notice for each who shared a room with it, however many rooms they shared.
      this.#ctx.out.quitNotice(client, {
        type: "quit",
        ts: Date.now(),
        name,
        count,
        ...(reason ? { reason } : {}),
      });
      this.#ctx.cluster?.tell({
        kind: "quit",
        name,
        rooms: client.rooms.map((r) => r.name),
        reason,
      });
      for (const room of [...client.rooms]) this.#ctx.rooms.leave(client, room);
      this.#ctx.left({ name, reason });
    }
    this.#ctx.log(
      `disconnect ${client.peer.address}${
        reason ? ` (${reason})` : ""
      } (${clients.size} connections)`,
    );
    this.#ctx.disconnected({ address: client.peer.address, name, reason });
  }

  /** Disconnects the named user with a reason; false when nobody has that name. */
  kick(name: string, reason: string | undefined, by: string): boolean {
    const target = this.#ctx.names.get(name);
    if (!target) return false;
    const clean = reason ? sanitizeLabel(reason) : "";
    this.#ctx.log(`kick ${target.name} by ${by}${clean ? ` (${clean})` : ""}`);
    this.#ctx.out.bye(target, `kicked by ${by}${clean ? `: ${clean}` : ""}`);
    this.disconnect(target, "kicked");
    return true;
  }

  /**
   * Closes connections past a time limit: no name within `nameTimeoutMs`, or no input
   * within `idleTimeoutMs`.
   */
  sweep(now: number): void {
    const { nameTimeoutMs, idleTimeoutMs } = this.#ctx.limits;
    for (const client of this.#ctx.clients) {
      if (client.closing) continue;
      if (
        nameTimeoutMs > 0 && client.name === undefined && now - client.connectedAt >= nameTimeoutMs
      ) {
        this.#ctx.log(`timeout ${client.peer.address}: no name chosen`);
        this.#ctx.out.bye(client, `no name chosen within ${seconds(nameTimeoutMs)}`);
        this.disconnect(client, "no name chosen");
      } else if (idleTimeoutMs > 0 && now - client.lastInput >= idleTimeoutMs) {
        this.#ctx.log(`timeout ${this.#ctx.who(client)}: idle`);
        this.#ctx.out.bye(client, `idle for ${seconds(idleTimeoutMs)}`);
        this.disconnect(client, "idle");
      }
    }
  }

  /** Tells every client the server is going away and closes them. */
  shutdown(reason: string): void {
    for (const client of this.#ctx.clients) this.#ctx.out.bye(client, reason);
  }
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}
