// The chat over plain data: Hub wires the parts in lib/server/hub/ and holds no logic of its
// own; its methods hand each call to the part that does it. It never sees a socket: a Peer
// takes bytes; session.ts does the rest.

import type { Limits } from "./limits.ts";
import type { OutputMode } from "../protocol/events.ts";
import { Moderation } from "./moderation.ts";
import { Reclaimer } from "./reclaim.ts";
import { type ChatStore, MemoryStore } from "./store.ts";
import { Client, type Peer, who } from "./hub/client.ts";
import { Connections } from "./hub/connections.ts";
import { ServerConsole } from "./hub/console.ts";
import { Delivery } from "./hub/delivery.ts";
import { Directory } from "./hub/directory.ts";
import { describe, Failures } from "./hub/failures.ts";
import { Flood } from "./hub/flood.ts";
import { handlers } from "./hub/handlers.ts";
import { type ChatHooks, Hooks } from "./hub/hooks.ts";
import { Input } from "./hub/input.ts";
import { Messages } from "./hub/messages.ts";
import { Naming } from "./hub/naming.ts";
import { Operators } from "./hub/operators.ts";
import { type Prompt, PromptMachine } from "./hub/prompts.ts";
import { type Room, Rooms } from "./hub/rooms.ts";
import { Cluster } from "./hub/cluster.ts";
import { ClusterStore } from "./hub/cluster_store.ts";
import { SharedState } from "./hub/shared_state.ts";
import { ClusterRepair } from "./hub/cluster_repair.ts";
import { nameKey } from "../protocol/names.ts";
import {
  compareIds,
  DEFAULT_NODE_TIMEOUT_MS,
  type Engine,
  marksOf,
  type RoomEntry,
} from "./engine/engine.ts";

export type { ChatHooks, Prompt };
export type { MessageInfo, MessageKind } from "./hub/hooks.ts";
export { Client, describe, type Peer };

/** Settings a hub runs with. */
export interface HubOptions {
  limits: Limits;
  /** Give each newcomer a free `guest-N` name at once (seed 001). */
  autoName?: boolean;
  hooks?: ChatHooks;
  /** The server log: one line per call, without a timestamp (the caller adds it). */
  log?: (line: string) => void;
  version: string;
  /**
   * History and topics; in memory (the last `historyLines` per room) when absent. In a cluster,
   * a ClusterStore (hub/cluster_store.ts): bans, mutes and owned names are shared through it.
   */
  store?: ChatStore;
  /** The message of the day, shown on joining and by /motd. */
  motd?: string[];
  /** The password every client must give before choosing a name. */
  password?: string;
  /** The password that makes a user an operator with /op. */
  opPassword?: string;
  /** Keep the text of private and group messages out of the log (who to whom stays). */
  hidePrivateText?: boolean;
  /**
   * What several nodes share. A shared one (Redis) makes names unique across nodes and
   * `/users *`, `/whois` see them; the memory engine, or none, is a single node, never waited on.
   */
  engine?: Engine;
  /** How long a silent node keeps its names (ms); the heartbeat runs every third of it. */
  nodeTimeoutMs?: number;
}

/** The chat: named clients in rooms, with routing, commands and the console. */
export class Hub {
  /** Every connection, named or not. */
  readonly #clients = new Set<Client>();
  readonly #rooms: Rooms;
  readonly #ops: Operators;
  readonly #input: Input;
  readonly #console: ServerConsole;
  readonly #connections: Connections;
  readonly #reclaimer: Reclaimer;
  readonly #cluster: Cluster | undefined;
  readonly #repair: ClusterRepair | undefined;

  constructor(options: HubOptions) {
    const limits = options.limits;
    const log = (line: string) => options.log?.(line);
    const storeFailed = (what: string, err: unknown) =>
      log(`store failed ${what}: ${describe(err)}`);
    const store = options.store ?? new MemoryStore(limits.historyLines, limits);
    const clients = this.#clients;
    const names = new Directory();
    const moderation = new Moderation(store);
    const hooks = new Hooks({ hooks: options.hooks, log });
    const reclaimer = this.#reclaimer = new Reclaimer(undefined, (before, after) => {
      const mib = (n: number) => (n / 1048576).toFixed(1);
      log(
        `memory reclaimed: heap ${mib(before.heapUsed)} -> ${mib(after.heapUsed)} MiB, ` +
          `RSS ${mib(before.rss)} -> ${mib(after.rss)} MiB`,
      );
    });
    const reclaim = () => reclaimer.schedule();
    const engine = options.engine;
    const cluster = this.#cluster = engine !== undefined && engine.kind !== "memory"
      ? new Cluster(engine, options.nodeTimeoutMs ?? DEFAULT_NODE_TIMEOUT_MS, log, {
        retainMs: limits.retainMs,
        // --retain-messages counted in rooms of the lines the engine keeps per room.
        keepRooms: limits.retainMessages > 0
          ? Math.max(1, Math.floor(limits.retainMessages / Math.max(limits.historyLines, 50)))
          : Number.MAX_SAFE_INTEGER,
      })
      : undefined;
    const out = new Delivery(
      limits.announceUpTo,
      names.byKey,
      cluster && ((key) => cluster.count(key)),
    );
    const failures = new Failures({ out, log, who });
    const notStored = (client: Client, err: unknown) => failures.notStored(client, err);
    const rooms = this.#rooms = new Rooms(
      store,
      limits,
      storeFailed,
      reclaim,
      cluster && ((room) => {
        roomState!.read(room);
        catchUp(room);
      }),
    );
    // In a cluster the store is the engine's (cluster_store.ts): operators' changes go there.
    const shared = cluster && store instanceof ClusterStore ? store : undefined;
    const ops = this.#ops = new Operators({
      cluster,
      shared,
      prompts: {
        answering: (client, id, fn) => prompts.answering(client, id, fn),
        release: (client) => prompts.release(client),
      },
      limits,
      clients,
      names,
      rooms,
      moderation,
      out,
      log,
      storeFailed: (err) => log(`store failed: ${describe(err)}`),
      kick: (name, reason, by) => connections.kick(name, reason, by),
      disconnect: (client, reason) => connections.disconnect(client, reason),
      ...(cluster && {
        shareMotd: (lines: string[], by: string): Promise<void> => roomState!.setMotd(lines, by),
      }),
    }, options.motd);
    const roomState: SharedState | undefined = cluster &&
      new SharedState(engine!, { limits, rooms, out, log, storeFailed, motd: ops });
    roomState?.read(rooms.lobby);
    roomState?.start();
    const flood = new Flood({
      limits,
      out,
      log,
      who,
      disconnect: (client, reason) => connections.disconnect(client, reason),
    });
    const messages = new Messages({
      limits,
      names,
      rooms,
      out,
      hidePrivateText: options.hidePrivateText,
      log,
      silenced: (client, outcome) => ops.silenced(client, outcome),
      rewrite: (info) => hooks.call("message", info),
      notStored,
      cluster,
      prompts: {
        answering: (client, id, fn) => prompts.answering(client, id, fn),
        release: (client) => prompts.release(client),
      },
    });
    if (cluster !== undefined) {
      // Joins, renames and status changes told to other nodes carry the user's marks.
      cluster.statusOf = (name) => {
        const c = names.get(name);
        return c === undefined ? {} : marksOf(c);
      };
    }
    cluster?.listenDirect((event) => messages.directFromCluster(event));
    shared?.onChange((change) => ops.applied(change));
    cluster?.listenOrders((order) => {
      try {
        if (order.kind === "purge") ops.purged(order);
        else if (order.to !== cluster.node) return;
        else if (order.kind === "kick") connections.kick(order.name, order.reason, order.by);
        else naming.regained(order.name, order.by, order.node);
      } catch (err) {
        log(`engine: a ${order.kind} from node ${order.node} failed: ${describe(err)}`);
      }
    });
    cluster?.listen((room, id, event) =>
      messages.fromCluster(room, id, event, event.node === cluster.node)
    );
    cluster?.onPresence((event) => {
      // A user of another node joined, left, went or was renamed: this node's members of its
      // rooms are told as they would be on its node (--announce-up-to counts every node).
      const here = event.rooms.map((r) => rooms.get(nameKey(r))).filter((r): r is Room =>
        r !== undefined && r.members.size > 0
      );
      const ts = Date.now();
      const count = names.size + cluster.users;
      if (event.kind === "quit") {
        const reason = event.reason ? { reason: event.reason } : {};
        out.toRooms(here, { type: "quit", ts, name: event.name, count, ...reason });
      } else if (event.kind === "rename" && event.to !== undefined) {
        out.toRooms(here, { type: "rename", ts, from: event.name, to: event.to });
      } else if (event.kind === "join") {
        for (const room of here) {
          out.roomNotice(room, {
            type: "join",
            ts,
            name: event.name,
            room: room.name,
            count,
            members: out.size(room),
            ...(event.first ? {} : { moved: true as const }),
          });
        }
      } else if (event.kind === "part") {
        for (const room of here) {
          out.roomNotice(room, {
            type: "leave",
            ts,
            name: event.name,
            room: room.name,
            count,
            members: out.size(room),
            ...(event.reason ? { reason: event.reason } : {}),
          });
        }
      }
    });
    /**
     * In a cluster, a room new on this node (and #lobby at the start) first reads its history
     * from the engine: members who join meanwhile get their replay after it, and events that
     * came meanwhile are delivered after it unless it held them.
     */
    const catchUp = (room: Room) => {
      if (cluster === undefined || limits.historyLines <= 0) return;
      const pending: NonNullable<Room["catchUp"]> = room.catchUp = { buffered: [], waiting: [] };
      room.historyUnread = false;
      cluster.history(room.key, limits.historyLines).catch((err) => {
        log(`engine: cannot read the history of ${room.name}: ${describe(err)}`);
        // Read when Redis is back, instead of a catch-up (see cluster_repair.ts).
        room.historyUnread = true;
        return [] as RoomEntry[];
      }).then((entries) => {
        room.catchUp = undefined;
        if (rooms.get(room.key) !== room) return; // emptied and forgotten meanwhile
        let last: string | undefined;
        for (const { id, event } of entries) {
          try {
            rooms.say(room, event.kind, event.from, event.text, event.ts);
          } catch (err) {
            storeFailed(`keeping the history of ${room.name}`, err);
          }
          last = id;
        }
        if (last !== undefined) room.lastId = last;
        for (const c of pending.waiting) {
          if (!c.closing && room.members.has(c)) naming.replay(c, room);
        }
        const held = pending.held ?? [];
        let next = 0;
        for (const [i, { id, event }] of pending.buffered.entries()) {
          while (next < held.length && held[next].at <= i) held[next++].run();
          if (last !== undefined && compareIds(id, last) <= 0) continue;
          messages.fromCluster(room.key, id, event, event.node === cluster.node);
        }
        while (next < held.length) held[next++].run();
      });
    };
    catchUp(rooms.lobby);
    const prompts = new PromptMachine({
      limits,
      out,
      password: options.password,
      log,
      logError: (what, err) => log(`${what}: ${describe(err)}`),
      who,
      reclaim,
      handle: (client, line) => input.handle(client, line),
      command: (client, cmd) => input.command(client, cmd),
      rename: (client, name, password) => naming.rename(client, name, password),
      back: (client) => naming.back(client),
      admitted: (client) => connections.admitted(client),
      disconnect: (client, reason) => connections.disconnect(client, reason),
      failed: (client, err, what) => failures.failed(client, err, what),
    });
    const naming: Naming = new Naming({
      limits,
      names,
      rooms,
      moderation,
      accounts: store,
      out,
      prompts,
      motd: () => ops.motd,
      log,
      storeFailed,
      joined: (info) => hooks.call("join", info),
      renamed: (info) => hooks.call("rename", info),
      cluster,
      disconnect: (client, reason) => connections.disconnect(client, reason),
      evict: (holder, why) => {
        out.bye(holder, why);
        connections.disconnect(holder, "name taken over by its owner");
      },
    });
    // In a cluster, this node's users are registered again each time Redis comes back.
    this.#repair = cluster && new ClusterRepair({
      cluster,
      names,
      rooms,
      naming,
      historyLines: limits.historyLines,
      nodeTimeoutMs: options.nodeTimeoutMs ?? DEFAULT_NODE_TIMEOUT_MS,
      deliver: (key, id, event) =>
        messages.fromCluster(key, id, event, event.node === cluster.node),
      readHistory: (room) => catchUp(room),
      forget: (room) => {
        try {
          rooms.purge(room.key, "history");
        } catch (err) {
          storeFailed(`forgetting the history of ${room.name}`, err);
        }
      },
      bye: (client, why) => {
        out.bye(client, why);
        connections.disconnect(client, "name taken elsewhere");
      },
      log,
    });
    // Redis lost its data: this node writes back what it holds of what lasts (HSETNX: where
    // another node wrote it first, that stays), after its names and rooms are registered again.
    cluster?.onNewEpoch(() => {
      shared?.reseed().then(
        (n) => log(`engine: wrote back ${n} bans, mutes and owned names`),
        (err) => log(`engine: cannot write back bans, mutes and owned names: ${describe(err)}`),
      );
      roomState?.reseed().then(
        () => log("engine: wrote back topics and the motd"),
        (err) => log(`engine: cannot write back topics and the motd: ${describe(err)}`),
      );
    });
    const connections: Connections = this.#connections = new Connections({
      limits,
      version: options.version,
      clients,
      names,
      rooms,
      out,
      flood,
      prompts,
      naming,
      password: options.password !== undefined,
      autoName: options.autoName ?? false,
      cluster,
      log,
      who,
      reclaim,
      connected: (info) => hooks.call("connect", info),
      left: (info) => hooks.call("leave", info),
      disconnected: (info) => hooks.call("disconnect", info),
    });
    const input = this.#input = new Input({
      limits,
      names,
      rooms,
      out,
      flood,
      prompts,
      messages,
      naming,
      handlers: handlers({
        limits,
        clients,
        names,
        rooms,
        store,
        out,
        ops,
        flood,
        messages,
        naming,
        prompts,
        opPassword: options.opPassword,
        cluster,
        shared,
        roomState,
        log,
        notStored,
        disconnect: (client, reason) => connections.disconnect(client, reason),
      }),
      log,
      who,
      commanded: (info) => hooks.call("command", info),
      failed: (client, err, what) => failures.failed(client, err, what),
    });
    this.#console = new ServerConsole({
      names,
      online: () => connections.names,
      ops,
      out,
      log,
    });
  }

  /** Names online, in the order they connected (a rename keeps the place). */
  get names(): string[] {
    return this.#connections.names;
  }

  /** Connections open, named or not. */
  get connectionCount(): number {
    return this.#clients.size;
  }

  /**
   * Registers a new connection: greets it and asks for a name (or gives one), in `mode` from
   * the first event (the web door's connections speak JSON from the start).
   */
  connect(peer: Peer, now = Date.now(), mode: OutputMode = "text"): Client {
    return this.#connections.connect(peer, now, mode);
  }

  /**
   * Why a connection from `ip` (any spelling, as Deno gives it) is refused by a ban on an
   * address or a range holding it, or undefined. Never throws.
   */
  bannedAddress(ip: string, now = Date.now()): string | undefined {
    return this.#ops.bannedAddress(ip, now);
  }

  /** Handles one input line from a client. Never throws. */
  input(client: Client, line: string, now = Date.now()): void {
    this.#input.line(client, line, now);
  }

  /** Tells a client its line was longer than the limit and was discarded. */
  overlong(client: Client, now = Date.now()): void {
    this.#input.overlong(client, now);
  }

  /** Forgets a connection that has closed; others see it leave. Safe to call twice. */
  disconnect(client: Client, reason?: string): void {
    this.#connections.disconnect(client, reason);
  }

  /** Tells every client the server is going away and closes them. */
  shutdown(reason = "server shutting down"): void {
    this.#reclaimer.close();
    this.#cluster?.close();
    this.#repair?.close();
    this.#connections.shutdown(reason);
  }

  /**
   * Handles a line typed at the server's console (seed 003), which is always an operator:
   * `/users`, `/kick`, `/ban` and the other operator commands, `/motd TEXT`, `/help`;
   * `/quit` or `exit` returns `"stop"`; anything else goes to everyone.
   */
  console(line: string): "stop" | undefined {
    return this.#console.line(line);
  }

  /** Disconnects the named user with a reason; false when nobody has that name. */
  kick(name: string, reason?: string, by = "the server"): boolean {
    return this.#connections.kick(name, reason, by);
  }

  /** Drops stored history past its retention (bounded work); a store error is logged. */
  prune(now = Date.now()): void {
    this.#rooms.prune(now);
  }

  /**
   * Closes connections past a time limit: no name within `nameTimeoutMs`, or no input
   * within `idleTimeoutMs`. The server calls it on a timer.
   */
  sweep(now = Date.now()): void {
    this.#connections.sweep(now);
  }
}
