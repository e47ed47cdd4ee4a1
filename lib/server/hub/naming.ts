// Naming and joining: taking a name (checks, look-alikes of registered names, their
// passwords), a first join to the lobby, renames, joining and parting rooms, the history replay.
// The prompts' steps are prompts.ts's, the name map directory.ts's, writing delivery.ts's.

import type { Client } from "./client.ts";
import { encodedBytes, LOBBY } from "../../protocol/events.ts";
import { type Limits, replyBudget } from "../limits.ts";
import { TokenBucket } from "../../protocol/token_bucket.ts";
import { type Moderation, untilText } from "../moderation.ts";
import { looksAlike, nameKey, nameProblem } from "../../protocol/names.ts";
import { verifyPassword } from "../passwords.ts";
import type { ChatStore } from "../store.ts";
import { type Delivery, fitting } from "./delivery.ts";
import type { Directory } from "./directory.ts";
import { looksLikeSecret, type Prompt, type PromptMachine, remember } from "./prompts.ts";
import type { Room, Rooms } from "./rooms.ts";
import type { Cluster } from "./cluster.ts";
import { describe } from "./failures.ts";

/** What naming and joining work with; the hub gives its own parts. */
export interface NamingContext {
  /** Names across nodes; absent on a single node (the memory engine), which never waits. */
  cluster?: Cluster;
  limits: Pick<Limits, "maxNameLength" | "historyLines" | "maxOutboxBytes">;
  names: Directory;
  rooms: Rooms;
  moderation: Moderation;
  /** Registered names and their password hashes. */
  accounts: Pick<ChatStore, "account">;
  out: Delivery;
  prompts: Pick<
    PromptMachine,
    "askName" | "askPassword" | "guess" | "hash" | "answering" | "release"
  >;
  /** The message of the day now, shown on joining. */
  motd(): string[] | undefined;
  log(line: string): void;
  /** Logs a store failure while doing `what`. */
  storeFailed(what: string, err: unknown): void;
  /** The join hook. */
  joined(info: { name: string; address: string }): void;
  /** The rename hook. */
  renamed(info: { from: string; to: string }): void;
  /**
   * Ends another connection holding a name its owner has just proven (IRC's REGAIN): it is
   * told `why` and closed, and leaves before the owner takes the name.
   */
  evict(holder: Client, why: string): void;
  /** Closes a connection with a reason for the log. */
  disconnect(client: Client, reason: string): void;
}

/** Guest names tried in a cluster before giving up (other nodes hold the first ones). */
const GUEST_TRIES = 50;

/** How long the owner of a registered name waits for another node to give it up (ms). */
const REGAIN_MS = 3000;

/** Names clients, joins them to the lobby and to other rooms, and parts them. */
export class Naming {
  readonly #ctx: NamingContext;

  /** Works on `ctx`. */
  constructor(ctx: NamingContext) {
    this.#ctx = ctx;
  }

  /**
   * Takes `name` for a client (a first name or a rename) after every check: valid, free,
   * not banned, not a secret typed here, not a look-alike of a registered name; a registered
   * name needs its `password`, asked for when absent. A refusal goes `back`.
   */
  rename(client: Client, name: string, password?: string): void {
    const { out, prompts } = this.#ctx;
    const key = nameKey(name);
    const problem = nameProblem(name, this.#ctx.limits.maxNameLength);
    const taken = this.#ctx.names.taken(name, client);
    // A registered name in use elsewhere: its password takes it over.
    const inUse = taken !== undefined && !problem && this.#ctx.accounts.account(key) !== undefined;
    const ban = problem ? undefined : this.#ctx.moderation.banned("name", key, Date.now());
    if (looksLikeSecret(client, name)) {
      out.error(client, "looks-like-password", "that looks like a password; it was not sent");
      this.back(client);
      return;
    }
    if (problem || (taken && !inUse) || ban) {
      out.error(
        client,
        problem ? "name-invalid" : ban ? "name-banned" : "name-taken",
        problem
          ? `invalid name: ${problem}`
          : ban
          ? `the name ${name} is banned ${untilText(ban.until)}; choose another`
          : taken!,
      );
      this.back(client);
      return;
    }
    const account = client.name !== undefined && nameKey(client.name) === key
      ? undefined // renaming within your own name (case, look-alike): already proven
      : this.#ctx.accounts.account(key);
    if (account && looksAlike(name, account.name)) {
      out.error(
        client,
        "name-taken",
        `the name ${name} looks too much like ${account.name} (registered); choose another`,
      );
      this.back(client);
      return;
    }
    if (!account) {
      this.#takeName(client, name);
      return;
    }
    const prompt: Prompt = { for: "password", about: "name", name };
    if (password === undefined) {
      client.prompt = prompt;
      out.error(
        client,
        "name-registered",
        inUse
          ? `${name} is registered and in use: its password takes it over`
          : `${name} is registered: give its password`,
      );
      prompts.askPassword(client);
      return;
    }
    remember(client, password);
    const check = () => prompts.hash(client, () => verifyPassword(password, account.hash));
    prompts.guess(client, `name:${key}`, `wrong password for ${name}`, check, (right) => {
      if (!right) {
        // The prompt stays until the right password, another name, or an empty line.
        client.prompt = prompt;
        prompts.askPassword(client);
      } else {
        // Whoever holds it now (since before, or meanwhile) proved less: the owner takes it.
        const holder = this.#ctx.names.get(name);
        if (holder && holder !== client) {
          this.#ctx.log(
            `regain ${name}: ${client.peer.address} took it from ${holder.peer.address}`,
          );
          this.#ctx.evict(holder, `${name} was taken over with its password from elsewhere`);
        }
        this.#takeName(client, name, true);
      }
    });
  }

  /**
   * After a refused name, or leaving a password prompt without a name: the name prompt, or
   * for a named client back to chat (said with a `ready` prompt when it was at a password).
   */
  back(client: Client): void {
    if (client.name === undefined) {
      client.prompt = { for: "name" };
      this.#ctx.prompts.askName(client);
    } else if (client.prompt.for !== "ready") {
      client.prompt = { for: "ready" };
      const text = `back to chat as ${client.name}`;
      this.#ctx.out.send(client, { type: "prompt", ts: Date.now(), for: "ready", text });
    }
  }

  /**
   * Gives a client a name that passed every check: a first join or a rename. In a cluster the
   * name is first claimed for this node (input meanwhile held, as during a password check).
   */
  #takeName(client: Client, name: string, proven = false): void {
    const cluster = this.#ctx.cluster;
    const previous = client.name;
    const key = nameKey(name);
    if (cluster === undefined || (previous !== undefined && nameKey(previous) === key)) {
      this.#named(client, name);
      return;
    }
    const { out, prompts } = this.#ctx;
    const id = client.request?.id;
    client.held ??= [];
    const claiming = proven
      ? this.#regain(cluster, key, name, client.peer.address)
      : cluster.claim(key, name);
    claiming.then((claim) => {
      if (client.closing) {
        if (claim === "won" && !this.#ctx.names.has(name)) cluster.release(key);
        return;
      }
      prompts.answering(client, id, () => {
        const local = this.#ctx.names.taken(name, client);
        if (claim !== "won" || local !== undefined) {
          out.error(
            client,
            claim === "failed" ? "internal" : "name-taken",
            claim === "failed"
              ? `cannot take a name now (the cluster cannot be reached); try again`
              : local ?? `the name ${name} is taken (on another node); choose another`,
          );
          this.back(client);
        } else {
          this.#named(client, name);
          if (previous !== undefined && !this.#ctx.names.has(previous)) {
            cluster.release(nameKey(previous));
          }
        }
        prompts.release(client);
      });
    });
  }

  /**
   * Claims a registered name its owner (`by`) has just proven. When a user on another node
   * holds it, that node is told to end their connection, and the claim is tried again until
   * the name is free, for at most REGAIN_MS.
   */
  async #regain(
    cluster: Cluster,
    key: string,
    name: string,
    by: string,
  ): Promise<"won" | "lost" | "failed"> {
    let claim = await cluster.claim(key, name);
    if (claim !== "lost") return claim;
    try {
      const [held] = await cluster.whereIs([key]);
      if (held === undefined) return await cluster.claim(key, name);
      await cluster.order({
        kind: "regain",
        name: held.name,
        by,
        to: held.node,
        node: cluster.node,
      });
    } catch (err) {
      this.#ctx.log(`engine: cannot take ${name} over: ${describe(err)}`);
      return "failed";
    }
    const deadline = Date.now() + REGAIN_MS;
    while (claim === "lost" && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      claim = await cluster.claim(key, name);
    }
    return claim;
  }

  /**
   * A registered name proven by its owner on another node: its holder here is told and their
   * connection ends, which gives the name back for the owner's node to claim.
   */
  regained(name: string, by: string, node: string): void {
    const holder = this.#ctx.names.get(name);
    if (holder === undefined) return;
    this.#ctx.log(`regain ${name}: ${by} on node ${node} took it from ${holder.peer.address}`);
    this.#ctx.evict(holder, `${name} was taken over with its password from elsewhere`);
  }

  /**
   * A client with no name takes a free guest name: at once on a single node; in a cluster the
   * first free `guest-N` that this node can claim (another node may hold it).
   */
  guest(client: Client): void {
    const cluster = this.#ctx.cluster;
    if (cluster === undefined) {
      this.join(client, this.#ctx.names.freeGuestName(), true);
      return;
    }
    client.held ??= [];
    const attempt = async () => {
      let why = "no free guest name now; try again later";
      for (let tries = 0; tries < GUEST_TRIES; tries++) {
        const name = this.#ctx.names.freeGuestName();
        const claim = await cluster.claim(nameKey(name), name);
        if (claim === "failed") {
          why = "cannot give you a name now (the cluster cannot be reached); try again later";
          break;
        }
        if (claim === "lost" || this.#ctx.names.has(name)) continue;
        if (client.closing) {
          cluster.release(nameKey(name));
          return;
        }
        this.join(client, name, true);
        this.#ctx.prompts.release(client);
        return;
      }
      if (client.closing) return;
      this.#ctx.out.bye(client, why);
      this.#ctx.disconnect(client, "no guest name");
    };
    attempt();
  }

  /** Takes a name that passed every check, this node's to give. */
  #named(client: Client, name: string): void {
    client.prompt = { for: "ready" };
    const previous = client.name;
    if (previous === undefined) {
      this.join(client, name, false);
      return;
    }
    if (previous === name) {
      this.#ctx.out.system(client, `you are already ${name}`);
      return;
    }
    this.#ctx.names.rename(client, name);
    this.#ctx.moderation.renamed(nameKey(previous), nameKey(name));
    this.#ctx.log(`rename ${previous} -> ${name}`);
    this.#ctx.out.send(client, { type: "named", ts: Date.now(), name, previous, auto: false });
    this.#ctx.out.renameNotice(client, previous, name);
    this.#ctx.cluster?.tell({
      kind: "rename",
      name: previous,
      to: name,
      rooms: client.rooms.map((r) => r.name),
    });
    this.#ctx.renamed({ from: previous, to: name });
  }

  /**
   * A client's first name (`auto` when the server chose it): into the directory and the
   * lobby, with the motd, the lobby's topic and its history.
   */
  join(client: Client, name: string, auto: boolean): void {
    const { out } = this.#ctx;
    client.name = name;
    // The burst starts when you join: a paste right after naming gets through whole.
    if (client.bucket) {
      client.bucket = new TokenBucket(client.bucket.rate, client.bucket.burst, Date.now());
    }
    this.#ctx.names.add(client);
    const count = this.#ctx.names.size;
    this.#ctx.log(`join ${name} from ${client.peer.address} (${count} online)`);
    out.send(client, { type: "named", ts: Date.now(), name, auto });
    const motd = this.#ctx.motd();
    if (motd?.length) out.send(client, { type: "motd", ts: Date.now(), lines: motd });
    const lobby = this.#ctx.rooms.lobby;
    this.#ctx.rooms.enter(client, lobby);
    this.#ctx.cluster?.tell({ kind: "join", name, rooms: [lobby.name], first: true });
    const members = out.size(lobby);
    out.roomNotice(
      lobby,
      { type: "join", ts: Date.now(), name, room: LOBBY, count, members },
      client,
    );
    if (lobby.topic) {
      const { text, by } = lobby.topic;
      out.send(client, {
        type: "topic",
        ts: Date.now(),
        room: LOBBY,
        topic: text,
        by,
        changed: false,
      });
    }
    this.replay(client, lobby);
    this.#roomsChanged(client);
    this.#ctx.joined({ name, address: client.peer.address });
  }

  /**
   * Joins a named client to another room, keeping the others; it becomes the active one. The
   * room is told (up to --announce-up-to), the client gets who is there and the history.
   */
  enter(client: Client, to: Room): void {
    const { out, rooms } = this.#ctx;
    const name = client.name!;
    rooms.enter(client, to);
    this.#ctx.cluster?.tell({ kind: "join", name, rooms: [to.name] });
    this.#ctx.log(`join ${name} ${to.name}`);
    out.roomNotice(to, {
      type: "join",
      ts: Date.now(),
      name,
      room: to.name,
      count: this.#ctx.names.size,
      members: out.size(to),
      moved: true,
    }, client);
    this.#here(client, to, false);
    this.replay(client, to);
    this.#roomsChanged(client);
  }

  /** Makes a room the client is in its active one (no replay: it has seen the room). */
  activate(client: Client, room: Room): void {
    this.#ctx.rooms.use(client, room, true);
    this.#here(client, room, true);
    this.#roomsChanged(client);
  }

  /**
   * Takes a named client out of a room with an optional reason, telling the room (up to
   * --announce-up-to) and the client; when that was its active room, it is told which one is
   * active now, or how to join one when it is in none.
   */
  part(client: Client, room: Room, reason?: string): void {
    const { out, rooms } = this.#ctx;
    const name = client.name!;
    const wasActive = client.room === room;
    const event = {
      type: "leave",
      ts: Date.now(),
      name,
      room: room.name,
      count: this.#ctx.names.size,
      members: out.size(room) - 1,
      ...(reason ? { reason } : {}),
    } as const;
    // Told before it goes: parting the active room is not marked as another room's line.
    out.send(client, event);
    rooms.leave(client, room);
    this.#ctx.cluster?.tell({ kind: "part", name, rooms: [room.name], reason });
    this.#ctx.log(`part ${name} ${room.name}${reason ? ` (${reason})` : ""}`);
    out.roomNotice(room, event);
    this.#roomsChanged(client);
    if (!wasActive) return;
    if (client.room) this.#here(client, client.room, true);
    else {
      out.system(
        client,
        `you are in no room now: /join #ROOM to join one (/rooms lists them)`,
      );
    }
  }

  /**
   * Renames a client whose name another node holds now (this node was cut off from the
   * cluster meanwhile) to `name`, already claimed: it is told `why`, and its rooms here see a
   * rename. The other nodes learn of it from this node's rebuilt rooms (cluster_repair.ts).
   */
  settled(client: Client, name: string, why: string): void {
    const previous = client.name!;
    this.#ctx.names.rename(client, name);
    this.#ctx.moderation.renamed(nameKey(previous), nameKey(name));
    this.#ctx.log(`rename ${previous} -> ${name} (${why})`);
    this.#ctx.out.system(client, why);
    this.#ctx.out.send(client, { type: "named", ts: Date.now(), name, previous, auto: true });
    this.#ctx.out.renameNotice(client, previous, name);
    this.#ctx.renamed({ from: previous, to: name });
  }

  /** Tells the connection the client's rooms (see Peer.rooms): a server-edited prompt's. */
  #roomsChanged(client: Client): void {
    client.peer.rooms?.(client.room?.name, client.rooms.map((r) => r.name));
  }

  /** Tells a client its active room is now `room`: who is there and its topic. */
  #here(client: Client, room: Room, switched: boolean): void {
    const all = [...room.members].map((c) => c.name!);
    // In a cluster, the room's members on other nodes too.
    for (const m of this.#ctx.cluster?.members(room.key) ?? []) all.push(m.name);
    const names = fitting(all, replyBudget(this.#ctx.limits) / 2, (n) => encodedBytes(n) + 3);
    this.#ctx.out.send(client, {
      type: "room",
      ts: Date.now(),
      room: room.name,
      names,
      topic: room.topic?.text,
      ...(names.length < all.length ? { omitted: all.length - names.length } : {}),
      ...(switched ? { switched: true as const } : {}),
    });
  }

  /**
   * Sends a newcomer what it has not seen of the room's recent history, marked as history:
   * the newest lines that fit in one reply's budget (in this client's output mode), saying
   * how many older ones were left out, then `history-end`. Lines it saw before leaving the
   * room are not sent again. The encoded lines are made once per room and shared.
   */
  replay(client: Client, room: Room): void {
    const { out } = this.#ctx;
    if (this.#ctx.limits.historyLines <= 0) return;
    if (room.catchUp) {
      // In a cluster, the room's history is still being read: replayed once it is in.
      room.catchUp.waiting.push(client);
      return;
    }
    const budget = replyBudget(this.#ctx.limits);
    let replay;
    try {
      replay = this.#ctx.rooms.replay(client, room, budget);
    } catch (err) {
      this.#ctx.storeFailed(`reading the history of ${room.name}`, err);
      out.error(client, "not-stored", "the history of this room cannot be read right now");
      return;
    }
    const { lines, omitted } = replay;
    if (omitted > 0) {
      out.send(client, {
        type: "system",
        ts: Date.now(),
        text: `${omitted} older message${omitted === 1 ? "" : "s"} of ${room.name} not shown ` +
          `(a replay is limited to ${Math.round(budget / 1024)} KiB)`,
        history: true,
        room: room.name,
      });
    }
    for (const line of lines) {
      out.write(client, out.answer(client, line.event, line), true);
    }
    if (lines.length > 0 || omitted > 0) {
      out.send(client, {
        type: "history-end",
        ts: Date.now(),
        room: room.name,
        count: lines.length,
        history: true,
      });
    }
  }
}
