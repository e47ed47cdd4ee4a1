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
import { type StoredMute, storeErrorText } from "../store.ts";
import { type Delivery, fitting } from "./delivery.ts";
import type { Directory } from "./directory.ts";
import type { Rooms } from "./rooms.ts";
import { describe } from "./failures.ts";

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
    /** Runs a ban or mute's store write; false, with the reason told, when the store fails. */
    const stored = (write: () => void): boolean => {
      try {
        write();
        return true;
      } catch (err) {
        this.#ctx.storeFailed(err);
        reply(`/${cmd.name} could not be stored: ${storeErrorText(err)}`, true);
        return false;
      }
    };
    switch (cmd.name) {
      case "kick": {
        const name = this.#ctx.names.get(cmd.user)?.name;
        if (!this.#ctx.kick(cmd.user, cmd.reason, actor.name)) {
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
        const ban = { ...t, until, reason: cmd.reason, by: actor.name, ts: now };
        if (!stored(() => this.#ctx.moderation.ban(ban))) return;
        this.#ctx.log(`ban ${t.kind} ${t.target} ${untilText(until)} by ${actor.name}`);
        // A name is kept as its look-alike key; the operator reads it as typed.
        reply(`banned ${t.kind === "name" ? cmd.target : t.target} ${untilText(until)}`);
        const why = `banned by ${actor.name}${cmd.reason ? `: ${cmd.reason}` : ""}`;
        // Everyone the ban covers goes, but the operator who typed it.
        for (const c of [...this.#ctx.clients]) {
          if (c !== actor.client && covers(t, c)) {
            this.#ctx.out.bye(c, why);
            this.#ctx.disconnect(c, "banned");
          }
        }
        return;
      }
      case "unban": {
        const t = parseTarget(cmd.target);
        if (typeof t === "string") return reply(t, true);
        const shown = t.kind === "ip" ? t.target : cmd.target;
        let lifted = false;
        if (!stored(() => lifted = this.#ctx.moderation.unban(t.kind, t.target, now))) return;
        if (lifted) {
          this.#ctx.log(`unban ${t.kind} ${t.target} by ${actor.name}`);
          reply(`${shown} is no longer banned`);
        } else {
          reply(`${shown} is not banned`, true);
        }
        return;
      }
      case "banned": {
        const bans = this.#ctx.moderation.bans(now);
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
        const mute = { ...t, address, until, reason: cmd.reason, by: actor.name, ts: now };
        if (!stored(() => this.#ctx.moderation.mute(mute))) return;
        const who = online?.name ?? (t.kind === "name" ? cmd.target : t.target);
        this.#ctx.log(`mute ${t.kind} ${who}${address ? ` at ${address}` : ""} by ${actor.name}`);
        const why = cmd.reason ? ` (${cmd.reason})` : "";
        for (const c of this.#ctx.names.values()) {
          if (c === online || (t.kind === "ip" && covers(t, c))) {
            this.#ctx.out.system(c, `you are muted ${untilText(until)}${why}`);
          }
        }
        reply(
          `muted ${who} ${untilText(until)}${
            address ? ` (the name and ${address})` : t.kind === "name" ? " (the name)" : ""
          }`,
        );
        return;
      }
      case "unmute": {
        const t = parseTarget(cmd.target);
        if (typeof t === "string") return reply(t, true);
        const shown = t.kind === "ip" ? t.target : cmd.target;
        const muted = [...this.#ctx.names.values()].filter((c) => this.muteOf(c));
        let lifted = false;
        if (!stored(() => lifted = this.#ctx.moderation.unmute(t.kind, t.target, now))) return;
        if (!lifted) return reply(`${shown} is not muted`, true);
        this.#ctx.log(`unmute ${t.kind} ${t.target} by ${actor.name}`);
        reply(`${shown} may speak again`);
        for (const c of muted) if (!this.muteOf(c)) this.#ctx.out.system(c, "you may speak again");
        return;
      }
    }
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
    let purged;
    try {
      purged = this.#ctx.rooms.purge(nameKey(name), cmd.what);
    } catch (err) {
      this.#ctx.storeFailed(err);
      reply(`${name} could not be purged: the data file failed`, true);
      return;
    }
    const { room, hadTopic } = purged;
    const what = cmd.what === "all" ? "history and topic" : cmd.what;
    this.#ctx.log(`purge ${name} ${what} by ${actor.name}`);
    reply(`the ${what} of ${name} ${cmd.what === "all" ? "are" : "is"} gone`);
    if (room && hadTopic && cmd.what !== "history") {
      this.#ctx.out.toRoom(room, {
        type: "topic",
        ts: Date.now(),
        room: room.name,
        by: actor.name,
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
    share([text], actor.name).then(done, (err) => {
      this.#ctx.log(`engine: motd by ${actor.name} not set: ${describe(err)}`);
      const why = "not done: the cluster cannot be reached right now; try again";
      if (actor.client === undefined) this.#ctx.log(`console: ${why}`);
      else if (!actor.client.closing) this.#ctx.out.error(actor.client, "internal", why);
    });
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
