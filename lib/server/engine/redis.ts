// The Redis engine: names held as keys with a time to live renewed by this node's heartbeat,
// room events appended to a stream and published in one Lua call (so every node sees a room in
// stream order), history read back from the stream. Connects through node-redis, loaded only
// when `--engine redis://...` is given, so a single node never loads it.

import {
  type DirectEvent,
  type Engine,
  type EngineOptions,
  EngineUnreachableError,
  type HeldName,
  type OrderEvent,
  parseOrder,
  parseRecordChange,
  type Presence,
  presenceChanges,
  type PresenceEvent,
  presenceField,
  type RecordChange,
  recordProblem,
  type RoomEntry,
  type RoomEvent,
  type RoomListener,
  type SharedRecord,
  type SyncEntry,
  type SyncEvent,
  type UserStatus,
} from "./engine.ts";
import { type MotdChange, parseMotd, parseTopic, type TopicChange } from "./room_state.ts";

/** Keys and the channel, all under one prefix so a database can be shared with other programs. */
const PREFIX = "linechat:";
const nameKey = (key: string) => `${PREFIX}name:${key}`;
const roomKey = (room: string) => `${PREFIX}room:${room}`;
const CHANNEL = `${PREFIX}events`;
const DIRECT = `${PREFIX}direct`;
const PRESENCE = `${PREFIX}presence`;
/** Users in rooms: a hash of `room key\nname key` -> {room, name, node, away?, operator?} as JSON. */
const PRESENT = `${PREFIX}present`;
const aliveKey = (node: string) => `${PREFIX}node:${node}`;
/** Topics: a hash of room key -> the change that set it, as JSON; changes on their channel. */
const TOPICS = `${PREFIX}topics`;
const TOPIC_CHANNEL = `${PREFIX}topic-changes`;
/** The message of the day as JSON, and its channel. */
const MOTD = `${PREFIX}motd`;
const MOTD_CHANNEL = `${PREFIX}motd-changes`;

/**
 * Sets (ARGV[3] is 1) or removes field ARGV[1] of KEYS[1], then publishes "room key\nchange"
 * (ARGV[2]): kept and told in one step, after the room events published before it.
 */
const TOPIC_SCRIPT = `
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
else redis.call('HDEL', KEYS[1], ARGV[1]) end
redis.call('PUBLISH', '${TOPIC_CHANNEL}', ARGV[1] .. '\\n' .. ARGV[2])
return 1`;

/** Sets KEYS[1] to ARGV[1] and publishes it on the motd channel, in one step. */
const MOTD_SCRIPT = `
redis.call('SET', KEYS[1], ARGV[1])
redis.call('PUBLISH', '${MOTD_CHANNEL}', ARGV[1])
return 1`;
/** Shared records: a hash of `kind\nkey` -> value; their changes go out on RECORD_CHANGES. */
const RECORDS = `${PREFIX}records`;
const RECORD_CHANGES = `${PREFIX}record-changes`;
const ORDERS = `${PREFIX}orders`;

/**
 * Sets field ARGV[1] of KEYS[1] to ARGV[2] (when ARGV[4] is 1, only while its value is
 * ARGV[5]) and publishes the change ARGV[3]: one step; 1 when it was set.
 */
const PUT_RECORD_SCRIPT = `
if ARGV[4] == '1' and redis.call('HGET', KEYS[1], ARGV[1]) ~= ARGV[5] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PUBLISH', '${RECORD_CHANGES}', ARGV[3])
return 1`;

/**
 * Removes field ARGV[1] of KEYS[1] (when ARGV[3] is 1, only while its value is ARGV[4]) and
 * publishes the change ARGV[2]; 1 when it was removed.
 */
const REMOVE_RECORD_SCRIPT = `
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v or (ARGV[3] == '1' and v ~= ARGV[4]) then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('PUBLISH', '${RECORD_CHANGES}', ARGV[2])
return 1`;

/** For each field, value and change in ARGV: HSETNX, publishing the change when it was set. */
const RESEED_SCRIPT = `
local n = 0
for i = 1, #ARGV, 3 do
  if redis.call('HSETNX', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
    redis.call('PUBLISH', '${RECORD_CHANGES}', ARGV[i + 2])
    n = n + 1
  end
end
return n`;

/**
 * A purge: deletes KEYS[1] (the room's stream) when ARGV[2] is 1, field ARGV[4] of KEYS[2]
 * (its topic) when ARGV[3] is 1, then publishes the order ARGV[1]: one step.
 */
const PURGE_SCRIPT = `
if ARGV[2] == '1' then redis.call('DEL', KEYS[1]) end
if ARGV[3] == '1' then redis.call('HDEL', KEYS[2], ARGV[4]) end
redis.call('PUBLISH', '${ORDERS}', ARGV[1])
return 1`;

const SYNC = `${PREFIX}sync`;
/** Subscriber messages held at most while a connection is away (see #holding). */
const HOLD_MAX = 10_000;
/** A random value set when the key is missing: a changed one means Redis lost its data. */
const EPOCH = `${PREFIX}epoch`;

/** The epoch KEYS[1] holds, set to ARGV[1] first when there is none. */
const EPOCH_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v then return v end
redis.call('SET', KEYS[1], ARGV[1])
return ARGV[1]`;

/**
 * Claims KEYS[i] with value ARGV[2 + i] for ARGV[2] ms when it is free or this node's (its
 * value starts with ARGV[1]); returns the indexes (from 1) of the keys another node holds.
 */
const RECLAIM_SCRIPT = `
local lost = {}
for i, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if v and string.sub(v, 1, #ARGV[1]) ~= ARGV[1] then
    table.insert(lost, i)
  else
    redis.call('SET', key, ARGV[2 + i], 'PX', ARGV[2])
  end
end
return lost`;

/**
 * Removes node ARGV[1]'s entries from the hash KEYS[1], sets the field/value pairs from
 * ARGV[3] on, then publishes ARGV[2] on the sync channel: the node's rooms replaced in one step.
 */
const REBUILD_SCRIPT = `
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local ok, v = pcall(cjson.decode, all[i + 1])
  if ok and type(v) == 'table' and v.node == ARGV[1] then redis.call('HDEL', KEYS[1], all[i]) end
end
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PUBLISH', '${PREFIX}sync', ARGV[2])
return 1`;

/**
 * Removes ARGV[2] hash fields of KEYS[1] (from ARGV[3] on), sets the field/value pairs after
 * them, then publishes ARGV[1] on the presence channel: the change and its notice in one step.
 */
const PRESENCE_SCRIPT = `
local n = tonumber(ARGV[2])
for i = 3, 2 + n do redis.call('HDEL', KEYS[1], ARGV[i]) end
for i = 3 + n, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
redis.call('PUBLISH', '${PREFIX}presence', ARGV[1])
return 1`;

/**
 * When node ARGV[1]'s alive key KEYS[2] is gone (or ARGV[4] is 1): removes its users from KEYS[1] and publishes
 * one quit per user (reason ARGV[2], ts ARGV[3]); returns how many. One script, so of nodes
 * sweeping at once only the first finds anything.
 */
const SWEEP_SCRIPT = `
if ARGV[4] ~= '1' and redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local all = redis.call('HGETALL', KEYS[1])
local rooms = {}
local order = {}
for i = 1, #all, 2 do
  local ok, v = pcall(cjson.decode, all[i + 1])
  if ok and type(v) == 'table' and v.node == ARGV[1] then
    redis.call('HDEL', KEYS[1], all[i])
    if rooms[v.name] == nil then
      rooms[v.name] = {}
      table.insert(order, v.name)
    end
    table.insert(rooms[v.name], v.room)
  end
end
for _, name in ipairs(order) do
  redis.call('PUBLISH', '${PREFIX}presence', cjson.encode({kind = 'quit', name = name,
    rooms = rooms[name], reason = ARGV[2], ts = tonumber(ARGV[3]), node = ARGV[1]}))
end
return #order`;

/**
 * XADD (trimmed to about ARGV[2] entries) then PUBLISH "room\nid\nevent"; the room's last line
 * at ARGV[5] in KEYS[2] (for prune); returns the id.
 */
const PUBLISH_SCRIPT = `
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', 'e', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[5], ARGV[4])
redis.call('PUBLISH', ARGV[3], ARGV[4] .. '\\n' .. id .. '\\n' .. ARGV[1])
return id`;

/** Rooms by the time of their last line: a sorted set of room key -> ms since the epoch. */
const STREAMS = `${PREFIX}streams`;

/**
 * Deletes the streams (ARGV[3] .. room) of rooms in KEYS[1] whose last line is before ARGV[1],
 * then of the oldest past the ARGV[2] most recent; at most 500; returns how many.
 */
const PRUNE_SCRIPT = `
local n = 0
local function drop(room)
  redis.call('DEL', ARGV[3] .. room)
  redis.call('ZREM', KEYS[1], room)
  n = n + 1
end
for _, room in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[1], 'LIMIT', 0, 500)) do
  drop(room)
end
local over = math.min(redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[2]), 500 - n)
if over > 0 then
  for _, room in ipairs(redis.call('ZRANGE', KEYS[1], 0, over - 1)) do drop(room) end
end
return n`;

/** Renews each KEYS[i] whose value is still this node's (ARGV[1] "node\\n" prefix) to ARGV[2] ms. */
const HEARTBEAT_SCRIPT = `
local n = 0
for _, key in ipairs(KEYS) do
  local v = redis.call('GET', key)
  if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    n = n + 1
  end
end
return n`;

/**
 * Sets KEYS[1] to ARGV[1] for ARGV[3] ms when it is free or this node's (its value starts with
 * ARGV[2], `node` and a newline): 1; else 0. One script, so of nodes racing for a name exactly one wins, and
 * claims and releases from one node happen in the order it sent them.
 */
const CLAIM_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[2]) ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[3])
return 1`;

/** Deletes KEYS[1] when it is this node's (its value starts with ARGV[1], `node` and a newline). */
const RELEASE_SCRIPT = `
local v = redis.call('GET', KEYS[1])
if v and string.sub(v, 1, #ARGV[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

// deno-lint-ignore no-explicit-any
type RedisClient = any;

/** Settings of the Redis engine beyond the common ones. */
export interface RedisEngineOptions extends EngineOptions {
  url: string;
  /** Where Redis is, without a password, for messages. */
  shown: string;
  /** Called with one line when the connection fails or comes back after the start. */
  log?: (line: string) => void;
  /** How long the first connection may take (ms). */
  connectTimeoutMs?: number;
}

/** The engine over a Redis server; made by `RedisEngine.connect`. */
export class RedisEngine implements Engine {
  readonly kind = "redis";
  readonly node: string;
  readonly #options: RedisEngineOptions;
  readonly #client: RedisClient;
  #subscriber: RedisClient | undefined;
  #listener: RoomListener | undefined;
  #direct: ((event: DirectEvent) => void) | undefined;
  #presence: ((event: PresenceEvent) => void) | undefined;
  #topics: ((roomKey: string, change: TopicChange) => void) | undefined;
  #motd: ((motd: MotdChange) => void) | undefined;
  #records: ((change: RecordChange) => void) | undefined;
  #orders: ((event: OrderEvent) => void) | undefined;
  /** Keys of the names this node holds, renewed by heartbeat(). */
  readonly #held = new Set<string>();
  #closed = false;
  #sync: ((event: SyncEvent) => void) | undefined;
  #recover: ((fresh: boolean, reconnected: boolean) => void) | undefined;
  /**
   * While a connection is away and until the recover listener has run: what the subscriber
   * hands, in order (at most HOLD_MAX; a room's stream and who is where are read again anyway).
   */
  #holding: (() => void)[] | undefined;
  /** The epoch this node knows (see EPOCH). */
  #epoch: string | undefined;
  /** Names given back while Redis was away: given back again by reclaimNames(). */
  readonly #unreleased = new Set<string>();
  /** The connections (main, subscriber) that are away now. */
  readonly #away = new Set<string>();

  private constructor(options: RedisEngineOptions, client: RedisClient) {
    this.node = options.node;
    this.#options = options;
    this.#client = client;
  }

  /**
   * Connects to Redis and checks it answers; throws EngineUnreachableError with one line
   * (where, and why) when it does not within `connectTimeoutMs`.
   */
  static async connect(options: RedisEngineOptions): Promise<RedisEngine> {
    const { createClient } = await import("@redis/client");
    let started = false;
    const timeoutMs = options.connectTimeoutMs ?? 3000;
    const client = createClient({
      url: options.url,
      // Commands fail at once while Redis is away instead of queueing without bound.
      disableOfflineQueue: true,
      socket: {
        connectTimeout: timeoutMs,
        // The first connection is tried once; later, retried every 0.1-2 s.
        reconnectStrategy: (retries: number, cause: Error) =>
          started ? Math.min(100 * (retries + 1), 2000) : cause,
      },
    });
    let lastError = "";
    client.on("error", (err: unknown) => {
      const line = describeRedis(err);
      if (started && line !== lastError) options.log?.(`engine: ${options.shown}: ${line}`);
      lastError = line;
    });
    client.on("ready", () => {
      if (started && lastError !== "") options.log?.(`engine: ${options.shown}: connected again`);
      lastError = "";
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A server that accepts but never answers (not Redis, or stuck) counts as unreachable too.
    const silent = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`no answer within ${timeoutMs / 1000} s`)),
        timeoutMs,
      );
    });
    const engine = new RedisEngine(options, client);
    try {
      await Promise.race([
        (async () => {
          await client.connect();
          await client.ping();
          await engine.#checkEpoch();
          // Users left in rooms by an earlier process of this node (killed, then restarted
          // within the node timeout) are gone: the others are told now.
          await engine.#sweep(options.node, `node ${options.node} restarted`, true);
          await engine.heartbeat();
          await engine.#subscribe();
        })(),
        silent,
      ]);
    } catch (err) {
      for (const c of [engine.#subscriber, client]) {
        try {
          c?.destroy();
        } catch {
          // Never connected.
        }
      }
      throw new EngineUnreachableError(
        `cannot reach Redis at ${options.shown}: ${describeRedis(err)}`,
        { cause: err },
      );
    } finally {
      clearTimeout(timer);
    }
    started = true;
    engine.#watch(client, "main");
    engine.#watch(engine.#subscriber, "subscriber");
    return engine;
  }

  #claim(name: string): string {
    return `${this.node}\n${name}`;
  }

  async claimName(key: string, name: string): Promise<boolean> {
    this.#held.add(key);
    const won = await this.#client.eval(CLAIM_SCRIPT, {
      keys: [nameKey(key)],
      arguments: [this.#claim(name), `${this.node}\n`, String(this.#options.nodeTimeoutMs)],
    });
    if (won !== 1) this.#held.delete(key);
    return won === 1;
  }

  async releaseName(key: string): Promise<void> {
    this.#held.delete(key);
    try {
      await this.#client.eval(RELEASE_SCRIPT, {
        keys: [nameKey(key)],
        arguments: [`${this.node}\n`],
      });
      this.#unreleased.delete(key);
    } catch (err) {
      this.#unreleased.add(key);
      throw err;
    }
  }

  async names(): Promise<HeldName[]> {
    const keys: string[] = [];
    let cursor = "0";
    do {
      const reply = await this.#client.scan(cursor, { MATCH: `${PREFIX}name:*`, COUNT: 1000 });
      cursor = String(reply.cursor);
      keys.push(...reply.keys);
    } while (cursor !== "0");
    if (keys.length === 0) return [];
    const values: (string | null)[] = await this.#client.mGet(keys);
    const out: HeldName[] = [];
    keys.forEach((k, i) => {
      const value = values[i];
      if (value === null || value === undefined) return;
      const cut = value.indexOf("\n");
      out.push({
        key: k.slice(`${PREFIX}name:`.length),
        node: value.slice(0, cut),
        name: value.slice(cut + 1),
      });
    });
    return out;
  }

  async whereIs(keys: string[]): Promise<(HeldName | undefined)[]> {
    if (keys.length === 0) return [];
    const values: (string | null)[] = await this.#client.mGet(keys.map(nameKey));
    return keys.map((key, i) => {
      const value = values[i];
      if (value === null || value === undefined) return undefined;
      const cut = value.indexOf("\n");
      return { key, node: value.slice(0, cut), name: value.slice(cut + 1) };
    });
  }

  async heartbeat(): Promise<void> {
    await this.#client.set(aliveKey(this.node), "1", { PX: this.#options.nodeTimeoutMs });
    // Redis emptied without a lost connection (FLUSHALL, a failover) shows here too.
    if (await this.#checkEpoch()) this.#recover?.(true, false);
    if (this.#held.size === 0) return;
    await this.#client.eval(HEARTBEAT_SCRIPT, {
      keys: [...this.#held].map(nameKey),
      arguments: [`${this.node}\n`, String(this.#options.nodeTimeoutMs)],
    });
  }

  async publish(room: string, event: RoomEvent): Promise<string> {
    return String(
      await this.#client.eval(PUBLISH_SCRIPT, {
        keys: [roomKey(room), STREAMS],
        arguments: [
          JSON.stringify(event),
          String(this.#options.historyLines),
          CHANNEL,
          room,
          String(event.ts),
        ],
      }),
    );
  }

  async history(room: string, count: number): Promise<RoomEntry[]> {
    if (count <= 0) return [];
    const entries: { id: string; message: Record<string, string> }[] = await this.#client
      .xRevRange(roomKey(room), "+", "-", { COUNT: count });
    const out: RoomEntry[] = [];
    for (let i = entries.length - 1; i >= 0; i--) {
      const event = parseEvent(entries[i].message.e);
      if (event !== undefined) out.push({ id: entries[i].id, event });
    }
    return out;
  }

  listen(listener: RoomListener): Promise<void> {
    if (this.#listener !== undefined) throw new Error("the engine already has a listener");
    this.#listener = listener;
    return Promise.resolve();
  }

  async direct(event: DirectEvent): Promise<void> {
    await this.#client.publish(DIRECT, JSON.stringify(event));
  }

  listenDirect(listener: (event: DirectEvent) => void): Promise<void> {
    if (this.#direct !== undefined) throw new Error("the engine already has a listener");
    this.#direct = listener;
    return Promise.resolve();
  }

  async presence(event: PresenceEvent): Promise<void> {
    // On the connection room events go out on, so it follows the events published before it.
    const { dels, sets } = presenceChanges(event);
    await this.#client.eval(PRESENCE_SCRIPT, {
      keys: [PRESENT],
      arguments: [
        JSON.stringify(event),
        String(dels.length),
        ...dels,
        ...sets.flatMap(([field, entry]) => [field, JSON.stringify(entry)]),
      ],
    });
  }

  async present(): Promise<Presence[]> {
    const all: Record<string, string> = await this.#client.hGetAll(PRESENT);
    const out: Presence[] = [];
    for (const value of Object.values(all)) {
      try {
        const e = JSON.parse(value);
        if (
          typeof e.room === "string" && typeof e.name === "string" && typeof e.node === "string"
        ) out.push({ room: e.room, name: e.name, node: e.node, ...statusOf(e) });
      } catch {
        // Not ours.
      }
    }
    return out;
  }

  sweep(node: string, reason: string): Promise<number> {
    return this.#sweep(node, reason, false);
  }

  async #sweep(node: string, reason: string, force: boolean): Promise<number> {
    return Number(
      await this.#client.eval(SWEEP_SCRIPT, {
        keys: [PRESENT, aliveKey(node)],
        arguments: [node, reason, String(Date.now()), force ? "1" : "0"],
      }),
    );
  }

  listenPresence(listener: (event: PresenceEvent) => void): Promise<void> {
    if (this.#presence !== undefined) throw new Error("the engine already has a listener");
    this.#presence = listener;
    return Promise.resolve();
  }

  /** Subscribes before the node serves anyone, so no event sent after the start is missed. */
  async #subscribe(): Promise<void> {
    const subscriber = this.#subscriber = this.#client.duplicate();
    subscriber.on("error", () => {
      // Reported once by the main connection, which fails the same way.
    });
    await subscriber.connect();
    await subscriber.subscribe(CHANNEL, (payload: string) =>
      this.#hand(() => {
        const listener = this.#listener;
        if (listener === undefined) return;
        const a = payload.indexOf("\n");
        const b = payload.indexOf("\n", a + 1);
        if (a < 0 || b < 0) return;
        const event = parseEvent(payload.slice(b + 1));
        if (event !== undefined) listener(payload.slice(0, a), payload.slice(a + 1, b), event);
      }));
    await subscriber.subscribe(DIRECT, (payload: string) =>
      this.#hand(() => {
        const event = parseDirect(payload);
        if (event !== undefined) this.#direct?.(event);
      }));
    await subscriber.subscribe(PRESENCE, (payload: string) =>
      this.#hand(() => {
        const event = parsePresence(payload);
        if (event !== undefined) this.#presence?.(event);
      }));
    await subscriber.subscribe(SYNC, (payload: string) =>
      this.#hand(() => {
        const event = parseSync(payload);
        if (event !== undefined) this.#sync?.(event);
      }));
    await subscriber.subscribe(RECORD_CHANGES, (payload: string) =>
      this.#hand(() => {
        const change = parseRecordChange(payload);
        if (change !== undefined) this.#records?.(change);
        else this.#options.log?.("engine: a record change that is not linechat's was skipped");
      }));
    await subscriber.subscribe(ORDERS, (payload: string) =>
      this.#hand(() => {
        const event = parseOrder(payload);
        if (event !== undefined) this.#orders?.(event);
        else this.#options.log?.("engine: an order that is not linechat's was skipped");
      }));
    await subscriber.subscribe(TOPIC_CHANNEL, (payload: string) =>
      this.#hand(() => {
        const cut = payload.indexOf("\n");
        const change = cut < 0 ? undefined : parseTopic(payload.slice(cut + 1));
        if (change !== undefined) this.#topics?.(payload.slice(0, cut), change);
        else this.#options.log?.("engine: a topic change that is not linechat's was skipped");
      }));
    await subscriber.subscribe(MOTD_CHANNEL, (payload: string) =>
      this.#hand(() => {
        const motd = parseMotd(payload);
        if (motd !== undefined) this.#motd?.(motd);
        else this.#options.log?.("engine: a motd that is not linechat's was skipped");
      }));
  }

  /** Hands a subscriber message on now, or holds it until the recover listener has run. */
  #hand(fn: () => void): void {
    const held = this.#holding;
    if (held === undefined) fn();
    else if (held.length < HOLD_MAX) held.push(fn);
  }

  /**
   * Follows a connection once the node has started: away from its first error until it is
   * ready again (node-redis reconnects by itself, and restores the subscriptions before it
   * says ready). Once both are back the epoch is checked and the recover listener called.
   */
  #watch(client: RedisClient, label: string): void {
    const away = () => {
      // An error on a connection still ready (a reply it could not read) is no loss: no
      // "ready" would follow it.
      if (this.#closed || client.isReady) return;
      this.#away.add(label);
      this.#holding ??= [];
    };
    client.on("error", away);
    client.on("reconnecting", away);
    client.on("ready", () => {
      if (!this.#away.delete(label) || this.#away.size > 0 || this.#closed) return;
      const recovered = (fresh: boolean) => {
        if (this.#closed) return;
        this.#recover?.(fresh, true);
        const held = this.#holding ?? [];
        this.#holding = undefined;
        for (const hand of held) hand();
      };
      this.#checkEpoch().then(recovered, () => {
        // Away again: the next ready tries again. Else (an odd failure) go on as the same data.
        if (this.#away.size === 0) recovered(false);
      });
    });
  }

  /** Reads the epoch (setting one when Redis has none): true when it changed since last read. */
  async #checkEpoch(): Promise<boolean> {
    const now = String(
      await this.#client.eval(EPOCH_SCRIPT, {
        keys: [EPOCH],
        arguments: [crypto.randomUUID()],
      }),
    );
    const fresh = this.#epoch !== undefined && this.#epoch !== now;
    this.#epoch = now;
    return fresh;
  }

  get reachable(): boolean {
    return this.#away.size === 0 && this.#client.isReady;
  }

  onRecover(listener: (fresh: boolean, reconnected: boolean) => void): void {
    this.#recover = listener;
  }

  async reclaimNames(names: { key: string; name: string }[]): Promise<string[]> {
    // Names whose users left while Redis was away are free again now, not when they lapse.
    for (const { key } of names) this.#unreleased.delete(key);
    for (const key of [...this.#unreleased]) {
      await this.#client.eval(RELEASE_SCRIPT, {
        keys: [nameKey(key)],
        arguments: [`${this.node}\n`],
      });
      this.#unreleased.delete(key);
    }
    if (names.length === 0) return [];
    const lost: number[] = await this.#client.eval(RECLAIM_SCRIPT, {
      keys: names.map((n) => nameKey(n.key)),
      arguments: [
        `${this.node}\n`,
        String(this.#options.nodeTimeoutMs),
        ...names.map((n) => this.#claim(n.name)),
      ],
    });
    const gone = new Set(lost.map((i) => names[Number(i) - 1].key));
    for (const { key } of names) {
      if (gone.has(key)) this.#held.delete(key);
      else this.#held.add(key);
    }
    return [...gone];
  }

  async rebuild(entries: SyncEntry[]): Promise<void> {
    const event: SyncEvent = { node: this.node, entries, ts: Date.now() };
    const pairs: string[] = [];
    for (const entry of entries) {
      pairs.push(
        presenceField(entry.room, entry.name),
        JSON.stringify({ ...entry, node: this.node }),
      );
    }
    await this.#client.eval(REBUILD_SCRIPT, {
      keys: [PRESENT],
      arguments: [this.node, JSON.stringify(event), ...pairs],
    });
  }

  async setTopic(roomKey: string, change: TopicChange): Promise<void> {
    await this.#client.eval(TOPIC_SCRIPT, {
      keys: [TOPICS],
      arguments: [roomKey, JSON.stringify(change), change.text === undefined ? "0" : "1"],
    });
  }

  async topic(roomKey: string): Promise<TopicChange | undefined> {
    const value: string | null = await this.#client.hGet(TOPICS, roomKey);
    if (value === null || value === undefined) return undefined;
    const change = parseTopic(value);
    if (change?.text === undefined) {
      this.#options.log?.("engine: a topic that is not linechat's was skipped");
      return undefined;
    }
    return change;
  }

  async restoreTopics(topics: [string, TopicChange][]): Promise<void> {
    for (const [key, change] of topics) {
      if (change.text !== undefined) {
        await this.#client.hSetNX(TOPICS, key, JSON.stringify(change));
      }
    }
  }

  listenTopics(listener: (roomKey: string, change: TopicChange) => void): Promise<void> {
    if (this.#topics !== undefined) throw new Error("the engine already has a listener");
    this.#topics = listener;
    return Promise.resolve();
  }

  async setMotd(motd: MotdChange): Promise<void> {
    await this.#client.eval(MOTD_SCRIPT, { keys: [MOTD], arguments: [JSON.stringify(motd)] });
  }

  async motd(): Promise<MotdChange | undefined> {
    const value: string | null = await this.#client.get(MOTD);
    if (value === null || value === undefined) return undefined;
    const motd = parseMotd(value);
    if (motd === undefined) {
      this.#options.log?.("engine: a motd that is not linechat's was skipped");
    }
    return motd;
  }

  async restoreMotd(motd: MotdChange): Promise<void> {
    await this.#client.set(MOTD, JSON.stringify(motd), { NX: true });
  }

  listenMotd(listener: (motd: MotdChange) => void): Promise<void> {
    if (this.#motd !== undefined) throw new Error("the engine already has a listener");
    this.#motd = listener;
    return Promise.resolve();
  }

  async putRecord(kind: string, key: string, value: string, expected?: string): Promise<boolean> {
    const problem = recordProblem(kind, key, value);
    if (problem !== undefined) throw new RangeError(problem);
    const change: RecordChange = { kind, key, value, node: this.node };
    return await this.#client.eval(PUT_RECORD_SCRIPT, {
      keys: [RECORDS],
      arguments: [
        `${kind}\n${key}`,
        value,
        JSON.stringify(change),
        expected === undefined ? "0" : "1",
        expected ?? "",
      ],
    }) === 1;
  }

  async removeRecord(kind: string, key: string, expected?: string): Promise<boolean> {
    const change: RecordChange = { kind, key, node: this.node };
    return await this.#client.eval(REMOVE_RECORD_SCRIPT, {
      keys: [RECORDS],
      arguments: [
        `${kind}\n${key}`,
        JSON.stringify(change),
        expected === undefined ? "0" : "1",
        expected ?? "",
      ],
    }) === 1;
  }

  async records(): Promise<SharedRecord[]> {
    const all: Record<string, string> = await this.#client.hGetAll(RECORDS);
    const out: SharedRecord[] = [];
    let bad = 0;
    for (const [field, value] of Object.entries(all)) {
      const cut = field.indexOf("\n");
      const kind = field.slice(0, cut);
      const key = field.slice(cut + 1);
      if (cut < 0 || typeof value !== "string" || recordProblem(kind, key, value) !== undefined) {
        bad++;
      } else out.push({ kind, key, value });
    }
    if (bad > 0) this.#options.log?.(`engine: ${bad} records out of bounds were skipped`);
    return out;
  }

  listenRecords(listener: (change: RecordChange) => void): Promise<void> {
    if (this.#records !== undefined) throw new Error("the engine already has a listener");
    this.#records = listener;
    return Promise.resolve();
  }

  async reseedRecords(records: SharedRecord[]): Promise<number> {
    const args: string[] = [];
    for (const { kind, key, value } of records) {
      if (recordProblem(kind, key, value) !== undefined) continue;
      const change: RecordChange = { kind, key, value, node: this.node };
      args.push(`${kind}\n${key}`, value, JSON.stringify(change));
    }
    if (args.length === 0) return 0;
    return Number(await this.#client.eval(RESEED_SCRIPT, { keys: [RECORDS], arguments: args }));
  }

  async order(event: OrderEvent): Promise<void> {
    if (event.kind !== "purge") {
      await this.#client.publish(ORDERS, JSON.stringify(event));
      return;
    }
    await this.#client.eval(PURGE_SCRIPT, {
      keys: [roomKey(event.room), TOPICS],
      arguments: [
        JSON.stringify(event),
        event.what === "topic" ? "0" : "1",
        event.what === "history" ? "0" : "1",
        event.room,
      ],
    });
  }

  listenOrders(listener: (event: OrderEvent) => void): Promise<void> {
    if (this.#orders !== undefined) throw new Error("the engine already has a listener");
    this.#orders = listener;
    return Promise.resolve();
  }

  listenSync(listener: (event: SyncEvent) => void): Promise<void> {
    if (this.#sync !== undefined) throw new Error("the engine already has a listener");
    this.#sync = listener;
    return Promise.resolve();
  }

  async since(room: string, after: string | undefined, count: number): Promise<RoomEntry[]> {
    if (count <= 0) return [];
    const entries: { id: string; message: Record<string, string> }[] = await this.#client
      .xRange(roomKey(room), after === undefined ? "-" : `(${after}`, "+", { COUNT: count });
    const out: RoomEntry[] = [];
    for (const { id, message } of entries) {
      const event = parseEvent(message.e);
      if (event !== undefined) out.push({ id, event });
    }
    return out;
  }

  async prune(before: number, keepRooms: number): Promise<number> {
    return Number(
      await this.#client.eval(PRUNE_SCRIPT, {
        keys: [STREAMS],
        arguments: [String(before), String(keepRooms), roomKey("")],
      }),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const keys = [...this.#held];
    this.#held.clear();
    try {
      await this.#client.del(aliveKey(this.node));
      for (const key of keys) {
        await this.#client.eval(RELEASE_SCRIPT, {
          keys: [nameKey(key)],
          arguments: [`${this.node}\n`],
        });
      }
    } catch {
      // Redis is away: the names lapse after the node timeout.
    }
    for (const client of [this.#subscriber, this.#client]) {
      if (client === undefined) continue;
      try {
        await client.close();
      } catch {
        client.destroy();
      }
    }
  }
}

/** An event read back from Redis, or undefined when it is not one of ours. */
function parseEvent(text: string | undefined): RoomEvent | undefined {
  if (text === undefined) return undefined;
  try {
    const e = JSON.parse(text);
    if (
      (e.kind === "message" || e.kind === "action") && typeof e.from === "string" &&
      typeof e.text === "string" && typeof e.ts === "number" && typeof e.node === "string" &&
      (e.notice === undefined || e.notice === true)
    ) return e;
  } catch {
    // Not JSON.
  }
  return undefined;
}

/** A private or group message read back from Redis, or undefined when it is not one of ours. */
function parseDirect(text: string): DirectEvent | undefined {
  try {
    const e = JSON.parse(text);
    const names = (v: unknown) => Array.isArray(v) && v.every((n) => typeof n === "string");
    if (
      (e.kind === "private" || e.kind === "group") && typeof e.from === "string" &&
      names(e.to) && names(e.targets) && typeof e.text === "string" &&
      typeof e.ts === "number" && typeof e.node === "string" &&
      (e.notice === undefined || e.notice === true)
    ) return e;
  } catch {
    // Not JSON.
  }
  return undefined;
}

/** A presence change read back from Redis, or undefined when it is not one of ours. */
function parsePresence(text: string): PresenceEvent | undefined {
  try {
    const e = JSON.parse(text);
    const optional = (v: unknown) => v === undefined || typeof v === "string";
    if (
      (e.kind === "join" || e.kind === "part" || e.kind === "quit" || e.kind === "rename" ||
        e.kind === "status") &&
      typeof e.name === "string" && optional(e.to) && optional(e.reason) &&
      Array.isArray(e.rooms) && e.rooms.every((r: unknown) => typeof r === "string") &&
      typeof e.ts === "number" && typeof e.node === "string" &&
      (e.first === undefined || typeof e.first === "boolean")
    ) {
      const { away: _away, operator: _operator, ...rest } = e;
      return { ...rest, ...statusOf(e) };
    }
  } catch {
    // Not JSON.
  }
  return undefined;
}

/** The away and operator marks of a presence read back from Redis; a bad one is left out. */
function statusOf(e: { away?: unknown; operator?: unknown }): UserStatus {
  return {
    ...(typeof e.away === "string" ? { away: e.away } : {}),
    ...(e.operator === true ? { operator: true as const } : {}),
  };
}

/** A SyncEvent read back from Redis, or undefined when it is not one of ours. */
function parseSync(text: string): SyncEvent | undefined {
  try {
    const e = JSON.parse(text);
    if (
      typeof e.node === "string" && typeof e.ts === "number" && Array.isArray(e.entries) &&
      e.entries.every((p: { room?: unknown; name?: unknown } | null) =>
        typeof p?.room === "string" && typeof p?.name === "string"
      )
    ) {
      const entries = e.entries.map((p: SyncEntry) => ({
        room: p.room,
        name: p.name,
        ...statusOf(p),
      }));
      return { node: e.node, ts: e.ts, entries };
    }
  } catch {
    // Not JSON.
  }
  return undefined;
}

/** One line for a Redis or socket error. */
function describeRedis(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describeRedis(err.errors[0]);
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0] || (err instanceof Error ? err.name : "unknown error");
}
