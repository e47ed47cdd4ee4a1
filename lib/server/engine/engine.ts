// The engine: what several nodes share to be one chat (names held, room events in one order,
// room history, who is in which room, which nodes are alive). The memory engine keeps it in this
// process (one node, the default); the Redis engine in a Redis server every node talks to. The
// hub's routing, replies and limits stay its own.

import { nameKey } from "../../protocol/names.ts";
import type { MotdChange, TopicChange } from "./room_state.ts";

/** A room event as the engine carries it: a message or an action, in the order the engine gave. */
export interface RoomEvent {
  kind: "message" | "action";
  from: string;
  text: string;
  /** Milliseconds since the epoch, from the sending node. */
  ts: number;
  /** The node the sender is on. */
  node: string;
  /** A notice (IRC NOTICE): never to be answered automatically. */
  notice?: true;
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
  /** A private notice (IRC NOTICE): never to be answered automatically. */
  notice?: true;
}

/** A user's away and operator marks, as `/users` and `/whois` show them. */
export interface UserStatus {
  /** The away message, when away. */
  away?: string;
  operator?: true;
}

/**
 * A user's presence in rooms changed on some node: it joined or left a room (`rooms` holds
 * that one), went offline, was renamed to `to` or changed its status (`rooms`: every room it
 * is in). Rooms are named as typed; `reason` goes with a part or a quit; a join, a rename and
 * a status change carry the user's status after it.
 */
export interface PresenceEvent extends UserStatus {
  kind: "join" | "part" | "quit" | "rename" | "status";
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

/** A user in a room on some node (the room and the user's name as typed), with its status. */
export interface Presence extends UserStatus {
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
  /**
   * Keeps a shared record (a ban, a mute, an owned name...) and hands the change to every
   * node's record listener, this one's included, in one step; with `expected`, only while its
   * value is still that (resolves with whether it was kept). Throws RangeError when the kind,
   * key or value is out of bounds (see `recordProblem`).
   */
  putRecord(kind: string, key: string, value: string, expected?: string): Promise<boolean>;
  /**
   * Removes a shared record and hands the removal to every node, in one step; with `expected`,
   * only while its value is still that. Resolves with whether it was removed.
   */
  removeRecord(kind: string, key: string, expected?: string): Promise<boolean>;
  /** Every shared record, in no particular order (out-of-bounds ones left out). */
  records(): Promise<SharedRecord[]>;
  /** Starts calling `listener` for every change of a shared record, from any node. */
  listenRecords(listener: (change: RecordChange) => void): Promise<void>;
  /**
   * Writes back each record the engine does not hold (an existing one is kept), handing each
   * written to every node; after the engine lost its data. Resolves with how many it wrote.
   */
  reseedRecords(records: SharedRecord[]): Promise<number>;
  /**
   * Hands an operator's order to every node's order listener. A purge also forgets, in the
   * same step, the room's history (unless only the topic goes) and its `topic` record
   * (unless only the history goes).
   */
  order(event: OrderEvent): Promise<void>;
  /** Starts calling `listener` for every order from any node. */
  listenOrders(listener: (event: OrderEvent) => void): Promise<void>;
  /**
   * Keeps a room's topic (removes it when `change.text` is absent) and hands the change to
   * every node's topic listener, in one step and in the room's order with publish(): every
   * member everywhere sees it at the same place among the room's lines.
   */
  setTopic(roomKey: string, change: TopicChange): Promise<void>;
  /** The topic kept for a room, if any. */
  topic(roomKey: string): Promise<TopicChange | undefined>;
  /** Writes topics back without telling anyone, each only where the room has none (see reseed). */
  restoreTopics(topics: [roomKey: string, change: TopicChange][]): Promise<void>;
  /** Starts calling `listener` for every topic change any node makes, this one's included. */
  listenTopics(listener: (roomKey: string, change: TopicChange) => void): Promise<void>;
  /** Keeps the message of the day and hands it to every node's motd listener. */
  setMotd(motd: MotdChange): Promise<void>;
  /** The message of the day kept, if any. */
  motd(): Promise<MotdChange | undefined>;
  /** Writes the motd back without telling anyone, only where none is kept (see reseed). */
  restoreMotd(motd: MotdChange): Promise<void>;
  /** Starts calling `listener` for every motd any node sets, this one's included. */
  listenMotd(listener: (motd: MotdChange) => void): Promise<void>;
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
  rebuild(entries: SyncEntry[]): Promise<void>;
  /** Starts calling `listener` for every SyncEvent any node sends. */
  listenSync(listener: (event: SyncEvent) => void): Promise<void>;
  /**
   * The events of a room after id `after` (from the first kept when undefined), oldest
   * first, at most `count`.
   */
  since(room: string, after: string | undefined, count: number): Promise<RoomEntry[]>;
  /**
   * Forgets the history of rooms whose last line is older than `before` (ms since the epoch),
   * then of the rooms with the oldest last lines past the `keepRooms` most recent: what one
   * user making room after room could otherwise pile up for ever. At most 500 rooms a call;
   * resolves with how many were forgotten.
   */
  prune(before: number, keepRooms: number): Promise<number>;
}

/** A user of a node in a room, with its marks, as the node rebuilt its rooms. */
export type SyncEntry = { room: string; name: string } & UserStatus;

/** Every user a node has in rooms, as it rebuilt them after the engine was away. */
export interface SyncEvent {
  node: string;
  entries: SyncEntry[];
  ts: number;
}

/** A shared record: its kind (`ban`, `mute`, `account`, ...), its key and its value (JSON). */
export interface SharedRecord {
  kind: string;
  key: string;
  value: string;
}

/** A shared record set (`value`) or removed (no `value`) by `node`. */
export interface RecordChange {
  kind: string;
  key: string;
  value?: string;
  node: string;
}

/**
 * An order for every node: an operator's kick of a user on node `to`, a room's purge, or a
 * registered name taken over by its owner (`by`, proven with its password) from its holder on
 * node `to`.
 */
export type OrderEvent =
  | { kind: "kick"; name: string; reason?: string; by: string; to: string; node: string }
  | { kind: "regain"; name: string; by: string; to: string; node: string }
  | { kind: "purge"; room: string; what: "history" | "topic" | "all"; by: string; node: string };

/** A shared record's kind: 1-16 lower-case letters. */
const RECORD_KIND = /^[a-z]{1,16}$/;
/** The longest key of a shared record (UTF-16 units). */
export const MAX_RECORD_KEY = 512;
/** The longest value of a shared record (UTF-16 units): far more than a ban, a mute or a hash. */
export const MAX_RECORD_VALUE = 16_384;

/** What is wrong with a shared record's parts (out of bounds), or undefined. */
export function recordProblem(kind: string, key: string, value = ""): string | undefined {
  if (!RECORD_KIND.test(kind)) return "a record's kind is 1-16 lower-case letters";
  if (key.length === 0 || key.length > MAX_RECORD_KEY) {
    return `a record's key is 1-${MAX_RECORD_KEY} characters`;
  }
  if (value.length > MAX_RECORD_VALUE) return `a record's value is at most ${MAX_RECORD_VALUE}`;
  return undefined;
}

/**
 * A record change or an order as read back from the engine (JSON from a stranger's reach):
 * the value when it is well formed and in bounds, else undefined.
 */
export function parseRecordChange(text: string): RecordChange | undefined {
  const e = parseObject(text);
  if (
    e === undefined || typeof e.kind !== "string" || typeof e.key !== "string" ||
    typeof e.node !== "string" || (e.value !== undefined && typeof e.value !== "string")
  ) return undefined;
  if (recordProblem(e.kind, e.key, e.value) !== undefined || !NODE_NAME.test(e.node)) {
    return undefined;
  }
  return e.value === undefined
    ? { kind: e.kind, key: e.key, node: e.node }
    : { kind: e.kind, key: e.key, value: e.value, node: e.node };
}

/** An order as read back from the engine, or undefined when it is not a well-formed one. */
export function parseOrder(text: string): OrderEvent | undefined {
  const e = parseObject(text);
  const short = (v: unknown, max: number) => typeof v === "string" && v.length <= max;
  if (e === undefined || !short(e.by, 256) || typeof e.node !== "string") return undefined;
  if (!NODE_NAME.test(e.node)) return undefined;
  if (
    e.kind === "kick" && short(e.name, 256) && typeof e.to === "string" && NODE_NAME.test(e.to) &&
    (e.reason === undefined || short(e.reason, MAX_RECORD_VALUE))
  ) {
    return {
      kind: "kick",
      name: e.name as string,
      by: e.by as string,
      to: e.to,
      node: e.node,
      ...(e.reason === undefined ? {} : { reason: e.reason as string }),
    };
  }
  if (
    e.kind === "regain" && short(e.name, 256) && typeof e.to === "string" && NODE_NAME.test(e.to)
  ) {
    return { kind: "regain", name: e.name as string, by: e.by as string, to: e.to, node: e.node };
  }
  if (
    e.kind === "purge" && short(e.room, 256) &&
    (e.what === "history" || e.what === "topic" || e.what === "all")
  ) {
    return {
      kind: "purge",
      room: e.room as string,
      what: e.what,
      by: e.by as string,
      node: e.node,
    };
  }
  return undefined;
}

/** A JSON object, or undefined for anything else (bad JSON, an array, a number...). */
function parseObject(text: string): Record<string, unknown> | undefined {
  if (text.length > MAX_RECORD_KEY + MAX_RECORD_VALUE * 2) return undefined;
  try {
    const v = JSON.parse(text);
    return v !== null && typeof v === "object" && !Array.isArray(v) ? v : undefined;
  } catch {
    return undefined;
  }
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
 * database 0). `shown` is the address without its password, for logs and messages. `password`
 * (from LINECHAT_REDIS_PASSWORD, out of `ps`) is used when the address has none.
 */
export function parseEngine(text: string, password?: string): EngineSpec {
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
  if (password !== undefined && password !== "" && url.password === "") {
    url.password = encodeURIComponent(password);
    return { kind: "redis", url: url.href, host, port, db, shown };
  }
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

/** The away and operator marks of a user, an event or an entry, and nothing else of it. */
export function marksOf(from: { away?: string; operator?: boolean }): UserStatus {
  return {
    ...(from.away === undefined ? {} : { away: from.away }),
    ...(from.operator ? { operator: true as const } : {}),
  };
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
  const status = marksOf(event);
  for (const room of event.rooms) {
    if (event.kind === "join" || event.kind === "status") {
      sets.push([field(room, event.name), { room, name: event.name, node: event.node, ...status }]);
    } else dels.push(field(room, event.name));
    if (event.kind === "rename" && event.to !== undefined) {
      sets.push([field(room, event.to), { room, name: event.to, node: event.node, ...status }]);
    }
  }
  return { dels, sets };
}
