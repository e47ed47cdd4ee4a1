// Room state kept in a shared engine (Redis): each room's topic and the message of the day. A
// change is made in the engine first and applied on every node, this one included, when the
// engine hands it back, in the room's order with its messages. Who may change them, and the
// checks on the text, stay the handlers' and the operators'. Only made in a cluster.

import type { Engine } from "../engine/engine.ts";
import {
  MAX_MOTD_LINES,
  type MotdChange,
  parseMotd,
  type TopicChange,
} from "../engine/room_state.ts";
import { encodedBytes } from "../../protocol/events.ts";
import { sanitize, sanitizeLabel } from "../../protocol/sanitize.ts";
import type { Limits } from "../limits.ts";
import type { Delivery } from "./delivery.ts";
import { describe } from "./failures.ts";
import type { Room, Rooms } from "./rooms.ts";

/** What the shared room state works with; the hub gives its own parts. */
export interface SharedStateContext {
  limits: Pick<Limits, "maxLineBytes">;
  rooms: Rooms;
  out: Delivery;
  log(line: string): void;
  /** Logs a store failure nobody is told of but the log. */
  storeFailed(what: string, err: unknown): void;
  /** The message of the day this node shows (read), and sets when the engine hands one over. */
  motd: { motd: string[] | undefined };
}

/** Topics and the motd through the engine. */
export class SharedState {
  readonly #engine: Engine;
  readonly #ctx: SharedStateContext;
  /** How many topic changes came for each room since this node made it. */
  readonly #changes = new WeakMap<Room, number>();
  /** How many motd changes came. */
  #motds = 0;

  /** Listens to the engine's topic and motd changes. */
  constructor(engine: Engine, ctx: SharedStateContext) {
    this.#engine = engine;
    this.#ctx = ctx;
    engine.listenTopics((key, change) => this.#topicChanged(key, change)).catch((err) =>
      ctx.log(`engine: cannot receive topic changes: ${describe(err)}`)
    );
    engine.listenMotd((motd) => this.#motdChanged(motd)).catch((err) =>
      ctx.log(`engine: cannot receive the motd: ${describe(err)}`)
    );
  }

  /**
   * At the start: this node's motd (`--motd`) is written for every node; without one, the
   * cluster's is read. A failure is logged.
   */
  start(): Promise<void> {
    const { motd } = this.#ctx.motd;
    if (
      motd !== undefined && parseMotd(JSON.stringify(this.#motd(motd, "the server"))) === undefined
    ) {
      this.#ctx.log(
        `engine: the motd is too long to share (at most ${MAX_MOTD_LINES} lines); ` +
          "it stays this node's",
      );
      return Promise.resolve();
    }
    if (motd !== undefined) {
      return this.#engine.setMotd({
        lines: motd,
        by: "the server",
        ts: Date.now(),
        node: this.node,
      })
        .catch((err) => this.#ctx.log(`engine: cannot share the motd: ${describe(err)}`));
    }
    return this.#engine.motd().then((found) => {
      if (found !== undefined && this.#ctx.motd.motd === undefined) this.#motdChanged(found);
    }, (err) => this.#ctx.log(`engine: cannot read the motd: ${describe(err)}`));
  }

  /** This node's name. */
  get node(): string {
    return this.#engine.node;
  }

  /**
   * Sets (or with `text` undefined removes) a room's topic on every node; rejects when the
   * engine is away, and then nothing changed anywhere.
   */
  async setTopic(room: Room, text: string | undefined, by: string, ts: number): Promise<void> {
    const before = this.#changes.get(room) ?? 0;
    await this.#engine.setTopic(room.key, {
      room: room.name,
      ...(text === undefined ? {} : { text }),
      by,
      ts,
      node: this.node,
    });
    // Kept here at once (the setter may ask next), told when it comes back; unless a change
    // came meanwhile, which is this one or a later one.
    const now = this.#changes.get(room) ?? 0;
    if (now === before && this.#ctx.rooms.get(room.key) === room) {
      this.#changes.set(room, now); // a read still on its way is older
      this.#apply(room, text, by, ts);
    }
  }

  /** Sets the motd on every node; rejects when the engine is away, and then nothing changed. */
  async setMotd(lines: string[], by: string): Promise<void> {
    const before = this.#motds;
    await this.#engine.setMotd(this.#motd(lines, by));
    if (this.#motds === before) this.#ctx.motd.motd = lines;
  }

  /**
   * Reads the topic of a room just made on this node; its members are told it when it comes,
   * unless a change came first (then the read may be stale, and the change is the topic).
   */
  read(room: Room): void {
    this.#engine.topic(room.key).then((change) => {
      if (change === undefined || this.#changes.has(room)) return;
      if (this.#ctx.rooms.get(room.key) !== room) return; // emptied and forgotten meanwhile
      const topic = this.#checked(change);
      if (topic?.text === undefined) return;
      if (!this.#apply(room, topic.text, topic.by, topic.ts)) return;
      const event = {
        type: "topic",
        ts: Date.now(),
        room: room.name,
        topic: topic.text,
        by: topic.by,
        changed: false,
      } as const;
      for (const c of room.members) this.#ctx.out.send(c, event);
    }, (err) => this.#ctx.log(`engine: cannot read the topic of ${room.name}: ${describe(err)}`));
  }

  /**
   * Writes this node's topics and motd back to the engine where it has none (it lost its
   * data); nobody is told, as nothing changed. Rejects when the engine is away.
   */
  async reseed(): Promise<void> {
    const ts = Date.now();
    const topics: [string, TopicChange][] = [];
    for (const room of this.#ctx.rooms.sorted()) {
      if (room.topic === undefined) continue;
      const { text, by } = room.topic;
      topics.push([room.key, { room: room.name, text, by, ts, node: this.node }]);
    }
    if (topics.length > 0) await this.#engine.restoreTopics(topics);
    const motd = this.#ctx.motd.motd;
    if (motd !== undefined) {
      await this.#engine.restoreMotd(this.#motd(motd, "the server"));
    }
  }

  /** A topic change from any node: applied and told to the room's members here. */
  #topicChanged(key: string, change: TopicChange): void {
    const room = this.#ctx.rooms.get(key);
    if (room === undefined) return; // read from the engine when the room is made here
    const topic = this.#checked(change);
    if (topic === undefined) return;
    this.#changes.set(room, (this.#changes.get(room) ?? 0) + 1);
    const apply = () => {
      if (this.#ctx.rooms.get(room.key) !== room) return;
      if (!this.#apply(room, topic.text, topic.by, topic.ts)) return;
      this.#ctx.out.toRoom(room, {
        type: "topic",
        ts: topic.ts,
        room: room.name,
        topic: topic.text,
        by: topic.by,
        changed: true,
      });
    };
    // While the room's history is read, its messages wait: the change waits in its place.
    const pending = room.catchUp;
    if (pending === undefined) apply();
    else (pending.held ??= []).push({ at: pending.buffered.length, run: apply });
  }

  /** Keeps a topic on this node; false when its store failed (logged). */
  #apply(room: Room, text: string | undefined, by: string, ts: number): boolean {
    try {
      this.#ctx.rooms.setTopic(room, text, by, ts);
      return true;
    } catch (err) {
      this.#ctx.storeFailed(`keeping the topic of ${room.name}`, err);
      return false;
    }
  }

  /**
   * A topic from the engine as this node would take it from a user: one line of visible text
   * and a name, within the line limit once encoded; else undefined (logged).
   */
  #checked(change: TopicChange): { text?: string; by: string; ts: number } | undefined {
    const text = change.text === undefined ? undefined : sanitizeLabel(change.text);
    const by = sanitizeLabel(change.by);
    const max = this.#ctx.limits.maxLineBytes;
    if (text === "" || by === "" || encodedBytes(text ?? "") + encodedBytes(by) > max) {
      this.#ctx.log(`engine: a topic from node ${sanitizeLabel(change.node)} was skipped`);
      return undefined;
    }
    return { ...(text === undefined ? {} : { text }), by, ts: change.ts };
  }

  /** A motd as this node hands it to the engine. */
  #motd(lines: string[], by: string): MotdChange {
    return { lines, by, ts: Date.now(), node: this.node };
  }

  /** A motd from any node: shown from now on, here too. */
  #motdChanged(motd: MotdChange): void {
    this.#motds++;
    this.#ctx.motd.motd = motd.lines.map(sanitize);
  }
}
