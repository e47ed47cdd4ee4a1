// The engine: what several nodes share to be one chat (names held, room events in one order,
// room history, who is in which room, which nodes are alive). The memory engine keeps it in this
// process (one node, the default); the Redis engine in a Redis server every node talks to. The
// hub's routing, replies and limits stay its own.

import { nameKey } from "../../protocol/names.ts";

/** A room event as the engine carries it: a message or an action, in the order the engine gave. */
export interface RoomEvent {
  kind: "message" | "action";
  from: string;
  text: string;
  /** Milliseconds since the epoch, from the sending node. */
  ts: number;
  /** The node the sender is on. */
  node: string;
}

/** A room event with its id in the room's order. */
export interface RoomEntry {
  id: string;
  event: RoomEvent;
}

/**
 * Orders two ids of one room: negative when `a` came first. Ids are `N` (memory) or `MS-SEQ`
 * (a Redis stream), compared part by part as numbers.
 */
export function compareIds(a: string, b: string): number {
  const [a1, a2 = "0"] = a.split("-");
  const [b1, b2 = "0"] = b.split("-");
  return Number(a1) - Number(b1) || Number(a2) - Number(b2);
}

/** A name held on some node: the name as typed and the node holding it. */
export interface HeldName {
  /** The name's key (see names.ts nameKey). */
  key: string;
  name: string;
  node: string;
}

/** A private or group message on its way to users on other nodes. */
export interface DirectEvent {
  kind: "private" | "group";
  from: string;
  /** Every recipient, as the sender's reply names them. */
  to: string[];
  /** The recipients the receiving nodes deliver to (those on other nodes than the sender's). */
  targets: string[];
  text: string;
  ts: number;
  /** The sender's node. */
  node: string;
}

/**
 * A user's presence in rooms changed on some node: it joined or left a room (`rooms` holds
 * that one), went offline or was renamed to `to` (`rooms`: every room it is in). Rooms are
 * named as typed; `reason` goes with a part or a quit.
 */
export interface PresenceEvent {
  kind: "join" | "part" | "quit" | "rename";
  name: string;
  to?: string;
  rooms: string[];
  reason?: string;
  ts: number;
  /** The node the user is on. */
  node: string;
  /** A join as the user came online (into #lobby), not a move. */
  first?: boolean;
}

/** A user in a room on some node (the room and the user's name as typed). */
export interface Presence {
  room: string;
  name: string;
  node: string;
}

/** Called for every room event, from every node this one's included, in the room's order. */
export type RoomListener = (room: string, id: string, event: RoomEvent) => void;

/** What the nodes of one chat share. Every call may fail (the Redis engine: Redis is away). */
export interface Engine {
  /** `memory` or `redis`. */
  readonly kind: "memory" | "redis";
  /** This node's name. */
  readonly node: string;
  /**
   * Takes the name with key `key` for this node: true when it was free or already this node's,
   * false when another node holds it. Of nodes racing for one key, exactly one gets true.
   */
  claimName(key: string, name: string): Promise<boolean>;
  /** Gives up this node's claim on `key`; another node's claim is left alone. */
  releaseName(key: string): Promise<void>;
  /** Every name held on every live node, in no particular order. */
  names(): Promise<HeldName[]>;
  /** Who holds each of `keys` (undefined: nobody), in the same order. */
  whereIs(keys: string[]): Promise<(HeldName | undefined)[]>;
  /** Keeps this node (its names, and its users in rooms) alive; a node that stops calling it loses them after its timeout. */
  heartbeat(): Promise<void>;
  /**
   * Appends an event to a room's history and hands it to every node's listener, in one step:
   * every listener sees a room's events in the same order. Resolves with the event's id.
   */
  publish(room: string, event: RoomEvent): Promise<string>;
  /** The last `count` events of a room with their ids, oldest first. */
  history(room: string, count: number): Promise<RoomEntry[]>;
  /** Starts calling `listener` for every room event; one listener per engine. */
  listen(listener: RoomListener): Promise<void>;
  /** Hands a private or group message to every node (kept nowhere). */
  direct(event: DirectEvent): Promise<void>;
  /** Starts calling `listener` for every private or group message any node sends. */
  listenDirect(listener: (event: DirectEvent) => void): Promise<void>;
  /**
   * Hands a presence change to every node, this one included, in the order this node sent it
   * and after the room events it published before (kept nowhere).
   */
  presence(event: PresenceEvent): Promise<void>;
  /** Every user in a room on every node, as the presence changes sent so far left them. */
  present(): Promise<Presence[]>;
  /**
   * When `node` has not called heartbeat() within the node timeout: forgets its users' rooms
   * and hands one `quit` for each of them (with `reason`, from `node`) to every node; of nodes
   * sweeping one dead node at once, one does it. Resolves with the number of users gone.
   */
  sweep(node: string, reason: string): Promise<number>;
  /** Starts calling `listener` for every presence change any node sends. */
  listenPresence(listener: (event: PresenceEvent) => void): Promise<void>;
  /** Stops listening, drops this node's names and lets go of connections. Safe to call twice. */
  close(): Promise<void>;
  /** Whether the engine answers now (false while Redis is away); the memory engine always does. */
  readonly reachable: boolean;
  /**
   * Calls `listener` each time the engine is back after being away (`reconnected`), once
   * events reach this node again, or when it lost its data without a lost connection; `fresh`
   * when it came back without its data (a new epoch: Redis restarted empty). Events that
   * arrive after a reconnection are handed on only after the listener returns. The memory
   * engine is never away.
   */
  onRecover(listener: (fresh: boolean, reconnected: boolean) => void): void;
  /**
   * Claims `names` again for this node, as after being away (each free or this node's is
   * taken and renewed); resolves with the keys another node holds now, which are no longer
   * this node's to renew. Names this node failed to give back (Redis was away) are given back.
   */
  reclaimNames(names: { key: string; name: string }[]): Promise<string[]>;
  /**
   * Replaces this node's users in rooms with `entries` (each room and name as typed) and hands
   * the whole list to every node as one SyncEvent, in one step.
   */
  rebuild(entries: { room: string; name: string }[]): Promise<void>;
  /** Starts calling `listener` for every SyncEvent any node sends. */
  listenSync(listener: (event: SyncEvent) => void): Promise<void>;
  /**
   * The events of a room after id `after` (from the first kept when undefined), oldest
   * first, at most `count`.
   */
  since(room: string, after: string | undefined, count: number): Promise<RoomEntry[]>;
}

/** Every user a node has in rooms, as it rebuilt them after the engine was away. */
export interface SyncEvent {
  node: string;
  entries: { room: string; name: string }[];
  ts: number;
}

/** How long a node's names live without a heartbeat, and how many events a room keeps. */
export interface EngineOptions {
  /** This node's name. */
  node: string;
  /** A node silent this long loses its names (ms). */
  nodeTimeoutMs: number;
  /** Events kept per room. */
  historyLines: number;
}

/** Where the engine lives, parsed from `--engine`. */
export type EngineSpec =
  | { kind: "memory" }
  | { kind: "redis"; url: string; host: string; port: number; db: number; shown: string };

/** The engine's server could not be reached when the node started; `message` says where and why. */
export class EngineUnreachableError extends Error {
  override name = "EngineUnreachableError";
}

/** A `--engine` value that is neither `memory` nor a Redis address; the message says why. */
export class EngineSpecError extends Error {
  override name = "EngineSpecError";
}

/**
 * Parses `--engine`: `memory`, or `redis://[:PASSWORD@]HOST:PORT[/DB]` (port 6379 when absent,
 * database 0). `shown` is the address without its password, for logs and messages.
 */
export function parseEngine(text: string): EngineSpec {
  if (text === "memory") return { kind: "memory" };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EngineSpecError(`use memory or redis://HOST:PORT[/DB]`);
  }
  if (url.protocol !== "redis:") throw new EngineSpecError(`use memory or redis://HOST:PORT[/DB]`);
  if (url.hostname === "") throw new EngineSpecError("the Redis address has no host");
  if (url.search !== "" || url.hash !== "") {
    throw new EngineSpecError("the Redis address takes no ?query or #fragment");
  }
  const port = url.port === "" ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\//, "");
  if (path !== "" && !/^\d{1,2}$/.test(path)) {
    throw new EngineSpecError(`invalid Redis database "${path}": a number 0-15`);
  }
  const db = path === "" ? 0 : Number(path);
  if (db > 15) throw new EngineSpecError(`invalid Redis database "${path}": a number 0-15`);
  const host = url.hostname;
  const shown = `redis://${host}:${port}/${db}`;
  return { kind: "redis", url: text, host, port, db, shown };
}

/** How long a silent node keeps its names (ms); `--node-timeout` will set it. */
export const DEFAULT_NODE_TIMEOUT_MS = 10_000;

/** A node name: 1-64 letters, digits, `.`, `_` or `-`. */
export const NODE_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** The field of a user in a room in the engine's record of who is where. */
export function presenceField(room: string, name: string): string {
  return `${nameKey(room)}\n${nameKey(name)}`;
}

/**
 * What a presence change does to the users in rooms, by `room key\nname key`: the entries it
 * removes, then those it sets.
 */
export function presenceChanges(
  event: PresenceEvent,
): { dels: string[]; sets: [string, Presence][] } {
  const field = (room: string, name: string) => `${nameKey(room)}\n${nameKey(name)}`;
  const dels: string[] = [];
  const sets: [string, Presence][] = [];
  for (const room of event.rooms) {
    if (event.kind === "join") {
      sets.push([field(room, event.name), { room, name: event.name, node: event.node }]);
    } else dels.push(field(room, event.name));
    if (event.kind === "rename" && event.to !== undefined) {
      sets.push([field(room, event.to), { room, name: event.to, node: event.node }]);
    }
  }
  return { dels, sets };
}
