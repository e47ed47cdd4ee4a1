// Writing events to viewers: a reply to one client, a room's members, everyone named, and the
// join, leave, quit and rename notices that --announce-up-to keeps quiet in a crowd. A text
// viewer sees a line from a room other than its active one marked with the room.
// What to say and to whom is the hub's; bytes and output queues belong to each Peer.

import type { Client } from "./client.ts";
import { type ErrorCode, Outgoing, type Reply, type ServerEvent } from "../../protocol/events.ts";
import { nameKey } from "../../protocol/names.ts";

/** Who hears a room's events: its members. */
export interface Audience {
  readonly members: ReadonlySet<Client>;
}

/** Writes events to clients, encoding each once per output mode. */
export class Delivery {
  readonly #announceUpTo: number;
  readonly #named: ReadonlyMap<string, Client>;
  readonly #elsewhere: ((roomKey: string) => number) | undefined;

  /**
   * `announceUpTo` is the largest room told of joins, leaves and renames (0: any size);
   * `named` holds the named clients by name key, in join order (read, never changed);
   * `elsewhere`, in a cluster, counts a room's members on other nodes.
   */
  constructor(
    announceUpTo: number,
    named: ReadonlyMap<string, Client>,
    elsewhere?: (roomKey: string) => number,
  ) {
    this.#announceUpTo = announceUpTo;
    this.#named = named;
    this.#elsewhere = elsewhere;
  }

  /** A room's members on every node. */
  size(room: { key: string; members: ReadonlySet<Client> }): number {
    return room.members.size + (this.#elsewhere?.(room.key) ?? 0);
  }

  /**
   * Tells the members of `rooms` (those of up to `announceUpTo` members) of a quit or rename
   * of a user on another node: one notice each, however many of the rooms they are in.
   */
  toRooms(
    rooms: { key: string; members: ReadonlySet<Client> }[],
    event: Extract<ServerEvent, { type: "quit" | "rename" }>,
  ): void {
    const max = this.#announceUpTo;
    const out = new Outgoing(event);
    const told = new Set<Client>();
    for (const room of rooms) {
      // The one gone still counts, as it does for a quit on this node.
      if (max !== 0 && this.size(room) + (event.type === "quit" ? 1 : 0) > max) continue;
      for (const c of room.members) {
        if (!told.has(c)) {
          told.add(c);
          this.write(c, out);
        }
      }
    }
  }

  /**
   * Queues an encoded event for a client unless it is closing (`reply`: see Peer.write); on a
   * text screen, a room's line names its room when that is not the client's active one.
   */
  write(client: Client, out: Outgoing, reply = false): void {
    if (client.closing) return;
    const marked = out.room !== undefined && client.mode === "text" &&
      client.room?.name !== out.room;
    client.peer.write(out.bytes(client.mode, marked), reply);
  }

  /** An event for the client, carrying the id of the request being answered, if any. */
  answer(client: Client, event: ServerEvent, shared?: Outgoing): Outgoing {
    const request = client.request;
    if (!request) return shared ?? new Outgoing(event);
    request.answered = true;
    return new Outgoing({ ...event, id: request.id } as Reply);
  }

  /**
   * Sends an event to one client in answer to what it did (a reply, see Peer), with the id
   * of the JSON request it answers.
   */
  send(client: Client, event: ServerEvent): void {
    if (
      event.type === "prompt" && event.for === "password" && client.mode === "text" &&
      !client.closing && !client.peer.hideNextLine?.()
    ) {
      event = { ...event, text: `${event.text} (it shows as you type)` };
    }
    this.write(client, this.answer(client, event), true);
  }

  /** A `system` line to one client. */
  system(client: Client, text: string): void {
    this.send(client, { type: "system", ts: Date.now(), text });
  }

  /** An `error` line to one client. */
  error(client: Client, code: ErrorCode, text: string): void {
    this.send(client, { type: "error", ts: Date.now(), code, text });
  }

  /** Sends a last line and closes the connection after it is flushed. */
  bye(client: Client, reason: string): void {
    this.send(client, { type: "bye", ts: Date.now(), reason });
    client.closing = true;
    client.peer.close(reason);
  }

  /** Sends to every named client except `except`. */
  broadcast(event: ServerEvent, except?: Client): void {
    const out = new Outgoing(event);
    for (const c of this.#named.values()) if (c !== except) this.write(c, out);
  }

  /**
   * Sends to a room's members except `except`; a message or action skips members who ignore
   * its sender.
   */
  toRoom(room: Audience, event: ServerEvent, except?: Client): void {
    const out = new Outgoing(event);
    const from = event.type === "message" || event.type === "action"
      ? nameKey(event.from)
      : undefined;
    // The hot path of a busy room: a member elsewhere is told apart by identity, not by name.
    for (const c of room.members) {
      if (c === except || c.closing || (from !== undefined && c.ignored?.has(from))) continue;
      c.peer.write(out.bytes(c.mode, c.room !== room), false);
    }
  }

  /**
   * A join or leave notice for the room, unless the room (counting the one coming or going)
   * is bigger than `announceUpTo`: in a crowd, every arrival told to everyone is noise, and
   * it makes filling a room quadratic.
   */
  roomNotice(
    room: Audience,
    event: Extract<ServerEvent, { type: "join" | "leave" }>,
    except?: Client,
  ): void {
    const max = this.#announceUpTo;
    const crowd = event.type === "join" ? event.members : event.members + 1;
    if (max === 0 || crowd <= max) this.toRoom(room, event, except);
  }

  /**
   * Tells who knows `client` that it is now `name`: the members of its rooms (as joins and
   * leaves are told, in rooms of up to `announceUpTo` members) and whoever it last had a
   * private conversation with; each of them once.
   */
  renameNotice(client: Client, previous: string, name: string): void {
    const out = new Outgoing({ type: "rename", ts: Date.now(), from: previous, to: name });
    const told = this.#roommates(client);
    told.add(client);
    for (const c of told) if (c !== client) this.write(c, out);
    const partner = client.lastPmFrom === undefined
      ? undefined
      : this.#named.get(nameKey(client.lastPmFrom));
    for (const c of this.#named.values()) {
      if (!told.has(c) && (c === partner || c.lastPmFrom === previous)) this.write(c, out);
    }
  }

  /**
   * Tells the members of a client's rooms (those of up to `announceUpTo` members, counting it)
   * that it went offline: one `quit` each, however many rooms they shared. Call it before the
   * client leaves its rooms.
   */
  quitNotice(client: Client, event: Extract<ServerEvent, { type: "quit" }>): void {
    const out = new Outgoing(event);
    for (const c of this.#roommates(client)) if (c !== client) this.write(c, out);
  }

  /** Everyone sharing a room with `client` that is small enough to be told of it, once each. */
  #roommates(client: Client): Set<Client> {
    const max = this.#announceUpTo;
    const rooms = client.rooms.filter((r) => max === 0 || this.size(r) <= max);
    if (rooms.length === 1) return new Set(rooms[0].members);
    const all = new Set<Client>();
    for (const room of rooms) for (const c of room.members) all.add(c);
    return all;
  }
}

/** The first items of `list` whose sizes add up to at most `budget`. */
export function fitting<T>(list: T[], budget: number, size: (item: T) => number): T[] {
  let n = 0;
  for (; n < list.length; n++) {
    budget -= size(list[n]);
    if (budget < 0) break;
  }
  return n === list.length ? list : list.slice(0, n);
}
