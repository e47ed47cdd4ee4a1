// The hub's side of a shared engine (Redis): names claimed across nodes before a client takes
// one, given back when it leaves or renames, kept alive by a heartbeat; names on other nodes for
// /users * and /whois; room messages handed to every node in one order, private ones to the
// nodes of their recipients. Only made when the engine is shared: a single node never calls it.

import type {
  DirectEvent,
  Engine,
  HeldName,
  RoomEntry,
  RoomEvent,
  RoomListener,
} from "../engine/engine.ts";
import { describe } from "./failures.ts";

/** Names across nodes, through the engine. */
export class Cluster {
  readonly #engine: Engine;
  readonly #log: (line: string) => void;
  readonly #beat: ReturnType<typeof setInterval>;
  #beatFailed = false;

  /** Starts the heartbeat: every third of the node timeout. */
  constructor(engine: Engine, nodeTimeoutMs: number, log: (line: string) => void) {
    this.#engine = engine;
    this.#log = log;
    this.#beat = setInterval(() => this.#heartbeat(), Math.max(100, nodeTimeoutMs / 3));
    Deno.unrefTimer(this.#beat);
  }

  /** This node's name. */
  get node(): string {
    return this.#engine.node;
  }

  /**
   * Claims a name key for this node: "won", "lost" (another node holds it) or "failed" (the
   * engine is away; logged).
   */
  async claim(key: string, name: string): Promise<"won" | "lost" | "failed"> {
    try {
      return await this.#engine.claimName(key, name) ? "won" : "lost";
    } catch (err) {
      this.#log(`engine: cannot claim the name ${name}: ${describe(err)}`);
      return "failed";
    }
  }

  /** Gives a name key back (nobody on this node has it any more); a failure is logged. */
  release(key: string): void {
    this.#engine.releaseName(key).catch((err) =>
      this.#log(`engine: cannot give back a name: ${describe(err)}`)
    );
  }

  /** Names held on other nodes; rejects when the engine is away. */
  async elsewhere(): Promise<HeldName[]> {
    return (await this.#engine.names()).filter((h) => h.node !== this.#engine.node);
  }

  /**
   * Hands a room message or action to every node, this one included, in the room's one order:
   * each node delivers it when the engine passes it back (see `listen`). Rejects when the
   * engine is away.
   */
  async publish(roomKey: string, event: Omit<RoomEvent, "node">): Promise<void> {
    await this.#engine.publish(roomKey, { ...event, node: this.#engine.node });
  }

  /** The last `count` events of a room, oldest first; rejects when the engine is away. */
  history(roomKey: string, count: number): Promise<RoomEntry[]> {
    return this.#engine.history(roomKey, count);
  }

  /** Starts receiving every node's room events, in each room's order. */
  listen(listener: RoomListener): void {
    this.#engine.listen(listener).catch((err) =>
      this.#log(`engine: cannot receive room events: ${describe(err)}`)
    );
  }

  /** Who holds each of `keys`, in order; rejects when the engine is away. */
  whereIs(keys: string[]): Promise<(HeldName | undefined)[]> {
    return this.#engine.whereIs(keys);
  }

  /** Hands a private or group message to the other nodes; rejects when the engine is away. */
  async direct(event: Omit<DirectEvent, "node">): Promise<void> {
    await this.#engine.direct({ ...event, node: this.#engine.node });
  }

  /** Starts receiving the private and group messages of the other nodes. */
  listenDirect(listener: (event: DirectEvent) => void): void {
    this.#engine.listenDirect((event) => {
      if (event.node !== this.#engine.node) listener(event);
    }).catch((err) => this.#log(`engine: cannot receive private messages: ${describe(err)}`));
  }

  /** Stops the heartbeat (the engine itself is closed by its owner). */
  close(): void {
    clearInterval(this.#beat);
  }

  #heartbeat(): void {
    this.#engine.heartbeat().then(() => {
      if (this.#beatFailed) this.#log("engine: heartbeat works again");
      this.#beatFailed = false;
    }, (err) => {
      if (!this.#beatFailed) this.#log(`engine: heartbeat failed: ${describe(err)}`);
      this.#beatFailed = true;
    });
  }
}
