// Message routing: a message to the room, an action, a private or group message, or a
// two-step command's target kept for the next line; the line limit once encoded. Mutes, the
// message hook, storing and writing are reached through the hub's parts.

import type { Client, Target } from "./client.ts";
import { encodedBytes, Outgoing } from "../../protocol/events.ts";
import type { Limits } from "../limits.ts";
import { nameKey } from "../../protocol/names.ts";
import { sanitize } from "../../protocol/sanitize.ts";
import type { Delivery } from "./delivery.ts";
import type { Directory } from "./directory.ts";
import type { Rooms } from "./rooms.ts";
import type { Cluster } from "./cluster.ts";
import { compareIds, type DirectEvent, type HeldName, type RoomEvent } from "../engine/engine.ts";
import type { PromptMachine } from "./prompts.ts";
import { describe } from "./failures.ts";

/** What message routing works with; the hub gives its own parts. */
export interface MessagesContext {
  limits: Pick<Limits, "maxLineBytes">;
  names: Directory;
  rooms: Rooms;
  out: Delivery;
  /** Keep the text of private and group messages out of the log. */
  hidePrivateText: boolean | undefined;
  log(line: string): void;
  /** Whether a mute keeps the client quiet (it is told, with `outcome`). */
  silenced(client: Client, outcome: string): boolean;
  /** The message hook: a string rewrites the text, `false` drops the message. */
  rewrite(
    info: { from: string; kind: Target["kind"]; to: string[]; text: string },
  ): string | false | void;
  /** Tells a client its message was not stored, and logs why. */
  notStored(client: Client, err: unknown): void;
  /** Room messages through every node; absent on a single node, which delivers at once. */
  cluster?: Cluster;
  /** Replies to a JSON request later, and input held meanwhile; needed with `cluster`. */
  prompts?: Pick<PromptMachine, "answering" | "release">;
}

/** Routes chat messages from one client to a room or to named clients. */
export class Messages {
  readonly #ctx: MessagesContext;

  /** Works on `ctx`. */
  constructor(ctx: MessagesContext) {
    this.#ctx = ctx;
  }

  /** A message now, or (with no text) its target kept for the next line. */
  twoStep(client: Client, target: Target, text: string | undefined): void {
    if (text !== undefined) {
      this.deliver(client, target, text);
      return;
    }
    const to = target.kind === "private"
      ? target.to
      : target.kind === "group"
      ? target.to.join(", ")
      : (target.room ?? client.room)?.name;
    if (to === undefined) {
      this.noRoom(client);
      return;
    }
    client.pending = target;
    const notice = `type your message to ${to} on the next line`;
    if (target.kind === "private" || target.kind === "group") this.#ctx.out.system(client, notice);
    else this.#ctx.out.send(client, { type: "system", ts: Date.now(), text: notice, room: to });
  }

  /** Sends a message, after mutes, the message hook and the line limit. */
  deliver(client: Client, target: Target, text: string): void {
    const from = client.name!;
    const roomMessage = target.kind === "public" || target.kind === "action";
    if (roomMessage && (target.room ?? client.room) === undefined) {
      this.noRoom(client);
      return;
    }
    if (roomMessage && target.room && !client.rooms.includes(target.room)) {
      this.#ctx.out.error(client, "not-in-room", `you are not in ${target.room.name}`);
      return;
    }
    if (this.#ctx.silenced(client, "nothing was sent")) return;
    const to = target.kind === "private" ? [target.to] : target.kind === "group" ? target.to : [];
    const rewritten = this.#ctx.rewrite({ from, kind: target.kind, to: [...to], text });
    if (rewritten === false) return;
    if (typeof rewritten === "string") text = sanitize(rewritten);
    if (text === "" || this.tooLong(client, text, "message")) return;
    let ts = Date.now();
    if (target.kind === "public" || target.kind === "action") {
      const room = target.room ?? client.room!;
      this.#ctx.rooms.use(client, room);
      const kind = target.kind === "public" ? "message" : "action";
      const cluster = this.#ctx.cluster;
      if (cluster !== undefined) {
        // Every node, this one included, delivers it when Redis hands it back: one order.
        this.#ctx.log(`${kind} ${room.name} ${from}: ${text}`);
        const notice = target.kind === "public" && target.notice ? { notice: true as const } : {};
        cluster.publish(room.key, { kind, from, text, ts, ...notice }).catch((err) => {
          this.#ctx.log(`engine: ${kind} ${room.name} ${from} not sent: ${describe(err)}`);
          if (client.closing) return;
          this.#ctx.out.error(
            client,
            "internal",
            "not sent: the cluster cannot be reached right now; try again",
          );
        });
        return;
      }
      try {
        ts = this.#ctx.rooms.say(room, kind, from, text, ts);
      } catch (err) {
        this.#ctx.notStored(client, err);
        return;
      }
      this.#ctx.log(`${kind} ${room.name} ${from}: ${text}`);
      const notice = target.kind === "public" && target.notice ? { notice: true as const } : {};
      this.#ctx.out.toRoom(
        room,
        { type: kind, ts, from, room: room.name, text, ...notice },
        client,
      );
      return;
    }
    const cluster = this.#ctx.cluster;
    if (cluster !== undefined && to.some((name) => !this.#ctx.names.has(name))) {
      // Someone is not on this node: ask where they are (input held meanwhile).
      const prompts = this.#ctx.prompts!;
      const id = client.request?.id;
      client.held ??= [];
      const keys = to.map(nameKey);
      cluster.whereIs(keys).then((held) => {
        if (client.closing) return;
        const elsewhere = new Map<string, HeldName>();
        for (const h of held) {
          if (h !== undefined && h.node !== cluster.node) elsewhere.set(h.key, h);
        }
        prompts.answering(client, id, () => this.#private(client, target, to, text, ts, elsewhere));
        prompts.release(client);
      }, (err) => {
        this.#ctx.log(`engine: cannot find ${to.join(", ")}: ${describe(err)}`);
        if (client.closing) return;
        prompts.answering(client, id, () =>
          this.#ctx.out.error(
            client,
            "internal",
            "not sent: the cluster cannot be reached right now; try again",
          ));
        prompts.release(client);
      });
      return;
    }
    this.#private(client, target, to, text, ts, undefined);
  }

  /**
   * Sends a private or group message to users on this node and (`elsewhere`, by name key) on
   * other nodes; the sender gets `sent` with every name, or an error per unknown one.
   */
  #private(
    client: Client,
    target: Target,
    to: string[],
    text: string,
    ts: number,
    elsewhere: Map<string, HeldName> | undefined,
  ): void {
    if (target.kind !== "private" && target.kind !== "group") return;
    const from = client.name!;
    const found: Client[] = [];
    const remote: string[] = [];
    for (const name of to) {
      const c = this.#ctx.names.get(name);
      const there = c ? undefined : elsewhere?.get(nameKey(name));
      if (there !== undefined) {
        if (!remote.includes(there.name)) remote.push(there.name);
      } else if (!c) {
        this.#ctx.out.error(client, "unknown-user", `no user named ${name} is online`);
      } else if (c === client) {
        if (target.kind === "private") this.#ctx.out.error(client, "usage", "that is you");
      } else if (!found.includes(c)) {
        found.push(c);
      }
    }
    if (target.kind === "private" && found.length === 0 && remote.length === 0) return;
    const names = [...found.map((c) => c.name!), ...remote];
    if (names.length === 0) {
      this.#ctx.out.error(client, "unknown-user", "nobody to send to");
      return;
    }
    this.#ctx.log(
      `${target.kind} ${from} -> ${names.join(", ")}${
        this.#ctx.hidePrivateText ? " (text not logged)" : `: ${text}`
      }`,
    );
    const out = new Outgoing(
      target.kind === "private"
        ? {
          type: "private",
          ts,
          from,
          to: names[0],
          text,
          ...(target.notice && { notice: true as const }),
        }
        : { type: "group", ts, from, to: names, text },
    );
    const fromKey = nameKey(from);
    for (const c of found) {
      // Someone ignoring the sender gets nothing; the sender is not told.
      if (c.ignored?.has(fromKey)) continue;
      this.#ctx.out.write(c, out);
      if (target.kind === "private") c.lastPmFrom = from;
    }
    if (remote.length > 0) {
      const notice = target.kind === "private" && target.notice ? { notice: true as const } : {};
      this.#ctx.cluster!.direct({
        kind: target.kind,
        from,
        to: names,
        targets: remote,
        text,
        ts,
        ...notice,
      })
        .catch((err) => {
          this.#ctx.log(`engine: ${target.kind} ${from} -> ${remote.join(", ")}: ${describe(err)}`);
          if (client.closing) return;
          this.#ctx.out.error(
            client,
            "internal",
            `not sent to ${remote.join(", ")}: the cluster cannot be reached right now`,
          );
        });
    }
    this.#ctx.out.send(client, { type: "sent", ts, kind: target.kind, to: names, text });
    for (const c of found) {
      if (c.away !== undefined) this.#ctx.out.system(client, `${c.name} is away: ${c.away}`);
    }
    for (const name of remote) {
      // Known when the user is in some room (its marks travel with its rooms).
      const node = elsewhere?.get(nameKey(name))?.node;
      const away = node === undefined ? undefined : this.#ctx.cluster!.marks(node, name)?.away;
      if (away !== undefined) this.#ctx.out.system(client, `${name} is away: ${away}`);
    }
  }

  /**
   * A room message or action the engine hands back (from any node, this one's included), in
   * the room's order: kept in this node's history of the room and written to its members here,
   * but not to the sender (who is not sent their own lines on one node either).
   */
  fromCluster(roomKey: string, id: string, event: RoomEvent, self: boolean): void {
    const room = this.#ctx.rooms.get(roomKey);
    if (room === undefined) return;
    if (room.catchUp) {
      // Its history is being read: delivered after it, unless the history holds it.
      room.catchUp.buffered.push({ id, event });
      return;
    }
    // Caught up from the room's stream after the engine was away, or handed twice: once only.
    if (room.lastId !== undefined && compareIds(id, room.lastId) <= 0) return;
    room.lastId = id;
    const { kind, from, text } = event;
    let ts: number;
    try {
      ts = this.#ctx.rooms.say(room, kind, from, text, event.ts);
    } catch (err) {
      this.#ctx.log(`store failed keeping a message of ${room.name}: ${describe(err)}`);
      ts = event.ts;
    }
    const sender = self ? this.#ctx.names.get(from) : undefined;
    const notice = kind === "message" && event.notice ? { notice: true as const } : {};
    this.#ctx.out.toRoom(room, { type: kind, ts, from, room: room.name, text, ...notice }, sender);
  }

  /**
   * A private or group message from a user on another node: written to its recipients here
   * (unless they ignore the sender), as if sent on this node.
   */
  directFromCluster(event: DirectEvent): void {
    const fromKey = nameKey(event.from);
    const out = new Outgoing(
      event.kind === "private"
        ? {
          type: "private",
          ts: event.ts,
          from: event.from,
          to: event.to[0],
          text: event.text,
          ...(event.notice && { notice: true as const }),
        }
        : { type: "group", ts: event.ts, from: event.from, to: event.to, text: event.text },
    );
    for (const name of event.targets) {
      const c = this.#ctx.names.get(name);
      if (c === undefined || c.closing || c.ignored?.has(fromKey)) continue;
      this.#ctx.out.write(c, out);
      if (event.kind === "private") c.lastPmFrom = event.from;
    }
  }

  /** Tells a client in no room that a room message needs one. */
  noRoom(client: Client): void {
    this.#ctx.out.error(
      client,
      "not-in-room",
      "you are in no room, so nobody would read that: /join #ROOM first (/rooms lists them)",
    );
  }

  /**
   * Whether `text` is over the line limit once encoded (what clients receive, not what came
   * in: an invalid byte grows to three, a `"` to two in JSON); if so the sender is told.
   */
  tooLong(client: Client, text: string, what: string): boolean {
    const max = this.#ctx.limits.maxLineBytes;
    const bytes = text.length * 6 <= max ? 0 : encodedBytes(text);
    if (bytes <= max) return false;
    this.#ctx.out.error(
      client,
      "line-too-long",
      `${what} too long once encoded (${bytes} bytes, limit ${max}); it was not sent`,
    );
    return true;
  }
}
