// Operator commands and moderation, for clients and the console alike: kick, ban, unban,
// banned, mute, unmute, purge and setting the motd, and whether a mute keeps a client quiet.
// Who may run them is input.ts's check (commands.ts marks them); moderation.ts keeps bans, mutes.

import type { Client } from "./client.ts";
import type { CommandOf } from "../../protocol/commands.ts";
import { encodedBytes } from "../../protocol/events.ts";
import { type Limits, replyBudget } from "../limits.ts";
import { contains, formatIp, hostAddress, parseIp } from "../../protocol/address.ts";
import { type Moderation, parseTarget, type SanctionTarget, untilText } from "../moderation.ts";
import { nameKey, roomProblem } from "../../protocol/names.ts";
import { sanitizeLabel } from "../../protocol/sanitize.ts";
import { type StoredBan, type StoredMute, storeErrorText } from "../store.ts";
import type { OrderEvent } from "../engine/engine.ts";
import type { Cluster } from "./cluster.ts";
import { type ClusterStore, sanctionKey, type SharedChange } from "./cluster_store.ts";
import { describe } from "./failures.ts";
import type { PromptMachine } from "./prompts.ts";
import { type Delivery, fitting } from "./delivery.ts";
import type { Directory } from "./directory.ts";
import type { Rooms } from "./rooms.ts";

/** Who runs an operator command: a client, or the console (`client` absent). */
export interface Actor {
  name: string;
  client?: Client;
}

/** What the operator commands work on; the hub gives its own parts. */
export interface OperatorsContext {
  limits: Pick<Limits, "maxNameLength" | "maxOutboxBytes">;
  /** Every connection, named or not. */
  clients: ReadonlySet<Client>;
  names: Directory;
  rooms: Rooms;
  moderation: Moderation;
  out: Delivery;
  log(line: string): void;
  /** Logs a store failure (the reply is the caller's). */
  storeFailed(err: unknown): void;
  /** Disconnects the named user with a reason; false when nobody has that name. */
  kick(name: string, reason: string | undefined, by: string): boolean;
  /** Nodes sharing an engine; absent on a single node. */
  cluster?: Cluster;
  /** In a cluster, the store over the engine: an operator's change is shared first. */
  shared?: ClusterStore;
  /** Replies to a client later, input held meanwhile; needed with `cluster`. */
  prompts?: Pick<PromptMachine, "answering" | "release">;
  /** Forgets a connection that has closed; others see it leave. */
  disconnect(client: Client, reason?: string): void;
  /**
   * In a cluster, sets the motd on every node (this one's when the engine hands it back);
   * rejects when the engine is away.
   */
  shareMotd?(lines: string[], by: string): Promise<void>;
}

/** The operator commands, the message of the day and mutes, over the hub's parts. */
export class Operators {
  readonly #ctx: OperatorsContext;
  /** The message of the day, shown on joining and by /motd. */
  motd: string[] | undefined;

  /** Works on `ctx`, starting with `motd`. */
  constructor(ctx: OperatorsContext, motd: string[] | undefined) {
    this.#ctx = ctx;
    this.motd = motd;
  }

  /**
   * Why a connection from `ip` (any spelling) is refused by a ban on an address or a range
   * holding it, or undefined.
   */
  bannedAddress(ip: string, now: number): string | undefined {
    const ban = this.#ctx.moderation.banned("ip", ip, now);
    return ban &&
      `you are banned from this server ${untilText(ban.until)}${
        ban.reason ? ` (${ban.reason})` : ""
      }`;
  }

  /** How to answer whoever runs an operator command: a client, or the console (the log). */
  #replier(actor: Actor): (text: string, error?: boolean) => void {
    return (text, error = false) => {
      if (!actor.client) this.#ctx.log(`console: ${text}`);
      else if (error) this.#ctx.out.error(actor.client, "usage", text);
      else this.#ctx.out.system(actor.client, text);
    };
  }

  /** An operator command from a client or the console; replies go back to whoever asked. */
  command(
    actor: Actor,
    cmd: CommandOf<"kick" | "ban" | "unban" | "banned" | "mute" | "unmute">,
  ): void {
    const now = Date.now();
    const reply = this.#replier(actor);
    const { moderation, shared } = this.#ctx;
    switch (cmd.name) {
      case "kick": {
        const name = this.#ctx.names.get(cmd.user)?.name;
        const cluster = this.#ctx.cluster;
        if (name === undefined && cluster !== undefined) {
          this.#kickElsewhere(actor, cmd.user, cmd.reason, cluster);
        } else if (!this.#ctx.kick(cmd.user, cmd.reason, actor.name)) {
          reply(`no user named ${cmd.user} is online`, true);
        } else if (actor.client) {
          reply(`kicked ${name}${cmd.reason ? ` (${sanitizeLabel(cmd.reason)})` : ""}`);
        }
        return;
      }
      case "ban": {
        const t = parseTarget(cmd.target, this.#ctx.limits.maxNameLength);
        if (typeof t === "string") return reply(t, true);
        const until = cmd.ms === undefined ? undefined : now + cmd.ms;
        const ban: StoredBan = {
          ...t,
          ...(until === undefined ? {} : { until }),
          ...(cmd.reason === undefined ? {} : { reason: cmd.reason }),
          by: actor.name,
          ts: now,
        };
        const record = { kind: "ban" as const, key: sanctionKey(t), record: ban };
        this.#commit(actor, cmd.name, record, () => moderation.ban(ban), () => {
          this.#ctx.log(`ban ${t.kind} ${t.target} ${untilText(until)} by ${actor.name}`);
          // A name is kept as its look-alike key; the operator reads it as typed.
          reply(`banned ${t.kind === "name" ? cmd.target : t.target} ${untilText(until)}`);
          this.#enforceBan(ban, actor.client);
        });
        return;
      }
      case "unban": {
        const t = parseTarget(cmd.target);
        if (typeof t === "string") return reply(t, true);
        const shown = t.kind === "ip" ? t.target : cmd.target;
        // In a cluster this node's copy says what is in force; the engine is asked only then.
        if (shared && !moderation.holds("ban", t.kind, t.target, now)) {
          return reply(`${shown} is not banned`, true);
        }
        let lifted = false;
        const write = () =>
          lifted = moderation.unban(t.kind, t.target, now) || shared !== undefined;
        this.#commit(actor, cmd.name, { kind: "ban", key: sanctionKey(t) }, write, () => {
          if (lifted) {
            this.#ctx.log(`unban ${t.kind} ${t.target} by ${actor.name}`);
            reply(`${shown} is no longer banned`);
          } else {
            reply(`${shown} is not banned`, true);
          }
        });
        return;
      }
      case "banned": {
        const bans = moderation.bans(now);
        reply(bans.length === 0 ? "nobody is banned" : `${bans.length} banned:`);
        // One reply's worth, newest first: a long list must not look like a slow reader.
        const lines = bans.reverse().map((b) =>
          `  ${b.kind} ${b.target} ${untilText(b.until)} by ${b.by}${
            b.reason ? ` (${b.reason})` : ""
          }`
        );
        const shown = actor.client
          ? fitting(lines, replyBudget(this.#ctx.limits), (l) => encodedBytes(l) + 60)
          : lines;
        for (const line of shown) reply(line);
        if (shown.length < lines.length) reply(`  ... and ${lines.length - shown.length} older`);
        return;
      }
      case "mute": {
        const t = parseTarget(cmd.target, this.#ctx.limits.maxNameLength);
        if (typeof t === "string") return reply(t, true);
        const online = t.kind === "name" ? this.#ctx.names.byKey.get(t.target) : undefined;
        const ip = online && hostAddress(online.peer.address);
        // A name mute keeps the user's address too: a new name from there is still muted.
        const address = ip && formatIp(ip);
        const until = cmd.ms === undefined ? undefined : now + cmd.ms;
        const mute: StoredMute = {
          ...t,
          ...(address === undefined ? {} : { address }),
          ...(until === undefined ? {} : { until }),
          ...(cmd.reason === undefined ? {} : { reason: cmd.reason }),
          by: actor.name,
          ts: now,
        };
        const record = { kind: "mute" as const, key: sanctionKey(t), record: mute };
        this.#commit(actor, cmd.name, record, () => moderation.mute(mute), () => {
          const who = online?.name ?? (t.kind === "name" ? cmd.target : t.target);
          this.#ctx.log(
            `mute ${t.kind} ${who}${address ? ` at ${address}` : ""} by ${actor.name}`,
          );
          this.#tellMuted(mute);
          reply(
            `muted ${who} ${untilText(until)}${
              address ? ` (the name and ${address})` : t.kind === "name" ? " (the name)" : ""
            }`,
          );
        });
        return;
      }
      case "unmute": {
        const t = parseTarget(cmd.target);
        if (typeof t === "string") return reply(t, true);
        const shown = t.kind === "ip" ? t.target : cmd.target;
        if (shared && !moderation.holds("mute", t.kind, t.target, now)) {
          return reply(`${shown} is not muted`, true);
        }
        const muted = [...this.#ctx.names.values()].filter((c) => this.muteOf(c));
        let lifted = false;
        const write = () =>
          lifted = moderation.unmute(t.kind, t.target, now) || shared !== undefined;
        this.#commit(actor, cmd.name, { kind: "mute", key: sanctionKey(t) }, write, () => {
          if (!lifted) return reply(`${shown} is not muted`, true);
          this.#ctx.log(`unmute ${t.kind} ${t.target} by ${actor.name}`);
          reply(`${shown} may speak again`);
          for (const c of muted) {
            if (!c.closing && !this.muteOf(c)) this.#ctx.out.system(c, "you may speak again");
          }
        });
        return;
      }
    }
  }

  /**
   * Runs an operator's change. On one node: `write` now, then `done` unless the store failed.
   * In a cluster: the shared record first (the operator's input held meanwhile), then `write`
   * in this node's copy and `done`; when the cluster cannot be reached nothing changes
   * anywhere and the operator is told.
   */
  #commit(
    actor: Actor,
    command: string,
    change: { kind: "ban" | "mute"; key: string; record?: StoredBan | StoredMute },
    write: () => void,
    done: () => void,
  ): void {
    const reply = this.#replier(actor);
    const store = this.#ctx.shared;
    if (store === undefined) {
      try {
        write();
      } catch (err) {
        this.#ctx.storeFailed(err);
        reply(`/${command} could not be stored: ${storeErrorText(err)}`, true);
        return;
      }
      done();
      return;
    }
    this.#later(actor, `/${command}`, store.share(change.kind, change.key, change.record), () => {
      store.local(write);
      done();
    });
  }

  /**
   * Runs `then` once `work` is done, answering the operator's client (its input held
   * meanwhile, as during a password check); when `work` fails (the engine is away), the
   * operator is told that nothing was done.
   */
  #later<T>(actor: Actor, what: string, work: Promise<T>, then: (value: T) => void): void {
    const client = actor.client;
    const prompts = this.#ctx.prompts;
    const id = client?.request?.id;
    if (client) client.held ??= [];
    const answer = (fn: () => void) => {
      try {
        if (client === undefined || prompts === undefined) return fn();
        if (client.closing) return;
        try {
          prompts.answering(client, id, fn);
        } finally {
          prompts.release(client);
        }
      } catch (err) {
        // A bug: logged, never an unhandled rejection that would stop the node.
        this.#ctx.log(`${what} by ${actor.name} failed: ${describe(err)}`);
      }
    };
    work.then((value) => answer(() => then(value)), (err) => {
      this.#ctx.log(`engine: ${what} by ${actor.name} not done: ${describe(err)}`);
      answer(() => {
        if (client) this.#ctx.out.error(client, "internal", NOT_DONE);
        else this.#ctx.log(`console: ${NOT_DONE}`);
      });
    });
  }

  /** `/kick NAME` of a user not on this node: the node holding the name kicks them. */
  #kickElsewhere(actor: Actor, user: string, reason: string | undefined, cluster: Cluster): void {
    const reply = this.#replier(actor);
    const clean = reason ? sanitizeLabel(reason) : "";
    const work = cluster.whereIs([nameKey(user)]).then(async ([held]) => {
      if (held === undefined || held.node === cluster.node) return undefined;
      await cluster.order({
        kind: "kick",
        name: held.name,
        ...(clean ? { reason: clean } : {}),
        by: actor.name,
        to: held.node,
        node: cluster.node,
      });
      return held;
    });
    this.#later(actor, "/kick", work, (held) => {
      if (held === undefined) return reply(`no user named ${user} is online`, true);
      this.#ctx.log(`kick ${held.name} on node ${held.node} by ${actor.name}`);
      if (actor.client) reply(`kicked ${held.name}${clean ? ` (${clean})` : ""}`);
    });
  }

  /** Everyone a ban covers goes (with the reason), but the operator who typed it. */
  #enforceBan(ban: StoredBan, except?: Client): void {
    const why = `banned by ${ban.by}${ban.reason ? `: ${ban.reason}` : ""}`;
    for (const c of [...this.#ctx.clients]) {
      if (c !== except && !c.closing && covers(ban, c)) {
        this.#ctx.out.bye(c, why);
        this.#ctx.disconnect(c, "banned");
      }
    }
  }

  /** Tells each user here a mute covers (its name, or a range holding its address) so. */
  #tellMuted(mute: StoredMute): void {
    const why = mute.reason ? ` (${mute.reason})` : "";
    for (const c of this.#ctx.names.values()) {
      if (covers(mute, c)) this.#ctx.out.system(c, `you are muted ${untilText(mute.until)}${why}`);
    }
  }

  /**
   * A ban, mute or owned name changed by a node of the cluster (this one's own change coming
   * back included): kept in this node's copy. Another node's ban or mute holds here as it
   * does there: its users here are dropped, or told they are muted or may speak again.
   */
  applied(change: SharedChange): void {
    const store = this.#ctx.shared;
    if (store === undefined) return;
    if (change.kind === "account") return store.apply(change);
    const now = Date.now();
    const { moderation } = this.#ctx;
    const elsewhere = change.node !== this.#ctx.cluster?.node;
    const cut = change.key.indexOf(" ");
    const kind = change.key.slice(0, cut) as StoredBan["kind"];
    const target = change.key.slice(cut + 1);
    if (change.kind === "ban") {
      if (change.record === undefined) {
        store.local(() => moderation.unban(kind, target, now));
        if (elsewhere) this.#ctx.log(`unban ${kind} ${target} (from node ${change.node})`);
        return;
      }
      const ban = change.record;
      store.local(() => moderation.ban(ban));
      if (!elsewhere) return;
      this.#ctx.log(
        `ban ${ban.kind} ${ban.target} ${
          untilText(ban.until)
        } by ${ban.by} (from node ${change.node})`,
      );
      this.#enforceBan(ban);
      return;
    }
    const muted = elsewhere ? [...this.#ctx.names.values()].filter((c) => this.muteOf(c)) : [];
    if (change.record === undefined) {
      store.local(() => moderation.unmute(kind, target, now));
      if (!elsewhere) return;
      this.#ctx.log(`unmute ${kind} ${target} (from node ${change.node})`);
      for (const c of muted) if (!this.muteOf(c)) this.#ctx.out.system(c, "you may speak again");
      return;
    }
    const mute = change.record;
    store.local(() => moderation.mute(mute));
    if (!elsewhere) return;
    this.#ctx.log(`mute ${mute.kind} ${mute.target} by ${mute.by} (from node ${change.node})`);
    if (mute.until !== undefined && mute.until <= now) return;
    this.#tellMuted(mute);
    // A name mute of a user here covers their address too, as on one node: this node knows it.
    const online = mute.kind === "name" && mute.address === undefined
      ? this.#ctx.names.byKey.get(mute.target)
      : undefined;
    const ip = online && hostAddress(online.peer.address);
    if (ip) store.amend("mute", change.key, { ...mute, address: formatIp(ip) });
  }

  /** Forgets a room's history, topic or both, in memory and in the store. */
  purge(actor: Actor, cmd: CommandOf<"purge">): void {
    const reply = this.#replier(actor);
    const name = cmd.room ?? actor.client?.room?.name;
    if (name === undefined) {
      reply("name the room: /purge #ROOM [history|topic]", true);
      return;
    }
    const problem = roomProblem(name, this.#ctx.limits.maxNameLength);
    if (problem) {
      reply(`invalid room: ${problem}`, true);
      return;
    }
    const purge = () => {
      const purged = this.#purge(nameKey(name), cmd.what);
      if (purged === undefined) {
        reply(`${name} could not be purged: the data file failed`, true);
        return;
      }
      const what = cmd.what === "all" ? "history and topic" : cmd.what;
      this.#ctx.log(`purge ${name} ${what} by ${actor.name}`);
      reply(`the ${what} of ${name} ${cmd.what === "all" ? "are" : "is"} gone`);
      this.#topicGone(purged, cmd.what, actor.name);
    };
    const cluster = this.#ctx.cluster;
    if (cluster === undefined) return purge();
    // In a cluster: Redis forgets the room's history (and topic), and every node its copy.
    const order = {
      kind: "purge" as const,
      room: nameKey(name),
      what: cmd.what,
      by: actor.name,
      node: cluster.node,
    };
    this.#later(actor, "/purge", cluster.order(order), purge);
  }

  /**
   * A purge ordered by another node's operator: this node forgets its copy of the room's
   * history, topic or both, and tells the room of a topic gone.
   */
  purged(order: Extract<OrderEvent, { kind: "purge" }>): void {
    if (order.node === this.#ctx.cluster?.node) return;
    const purged = this.#purge(order.room, order.what);
    if (purged === undefined) return;
    this.#ctx.log(`purge ${order.room} ${order.what} by ${order.by} (from node ${order.node})`);
    this.#topicGone(purged, order.what, order.by);
  }

  /** Forgets a room's history, topic or both here; undefined (logged) when the store failed. */
  #purge(key: string, what: "history" | "topic" | "all"): ReturnType<Rooms["purge"]> | undefined {
    try {
      return this.#ctx.rooms.purge(key, what);
    } catch (err) {
      this.#ctx.storeFailed(err);
      return undefined;
    }
  }

  /** Tells a room its topic is gone, when a purge took one. */
  #topicGone(purged: ReturnType<Rooms["purge"]>, what: string, by: string): void {
    const { room, hadTopic } = purged;
    if (room && hadTopic && what !== "history") {
      this.#ctx.out.toRoom(room, {
        type: "topic",
        ts: Date.now(),
        room: room.name,
        by,
        changed: true,
      });
    }
  }

  /** Sets the message of the day, shown on joining and by /motd. */
  setMotd(actor: Actor, text: string): void {
    const done = () => {
      this.#ctx.log(`motd set by ${actor.name}: ${text}`);
      if (actor.client) this.#ctx.out.system(actor.client, "the message of the day is set");
      else this.#ctx.log("console: the message of the day is set");
    };
    const share = this.#ctx.shareMotd;
    if (share === undefined) {
      this.motd = [text];
      done();
      return;
    }
    this.#later(actor, "/motd", share([text], actor.name), done);
  }

  /**
   * Whether a mute (on the client's name, or on a range holding its address) keeps it from
   * being heard; if so it is told, with `outcome`. Operators are never muted.
   */
  silenced(client: Client, outcome: string): boolean {
    const mute = this.muteOf(client);
    if (!mute) return false;
    const why = mute.reason ? ` (${mute.reason})` : "";
    this.#ctx.out.error(
      client,
      "muted",
      `you are muted ${untilText(mute.until)}${why}; ${outcome}`,
    );
    return true;
  }

  /** The mute on the client's name or on a range holding its address, if any. */
  muteOf(client: Client): StoredMute | undefined {
    if (client.operator) return undefined;
    const key = client.name === undefined ? undefined : nameKey(client.name);
    return this.#ctx.moderation.muted(key, client.peer.address, Date.now());
  }
}

/** What an operator is told when the cluster cannot be reached: nothing was done. */
export const NOT_DONE = "not done: the cluster cannot be reached right now; try again";

/** A client's address without its port (what `/ban ADDRESS` takes). */
export function addressOf(c: Client): string {
  const ip = hostAddress(c.peer.address);
  return ip === undefined ? c.peer.address : formatIp(ip);
}

/** Whether a ban or mute's target covers a client: its name key, or a range with its address. */
export function covers(t: SanctionTarget, c: Client): boolean {
  if (t.kind === "name") return c.name !== undefined && nameKey(c.name) === t.target;
  const ip = hostAddress(c.peer.address);
  return ip !== undefined && contains(parseIp(t.target), ip);
}
