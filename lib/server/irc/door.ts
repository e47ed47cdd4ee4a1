// The IRC door: one IRC connection as a hub client in JSON mode. IRC lines from the client
// become JSON requests for Hub.input; the hub's JSON events come back as IRC lines and
// numerics. The chat (names, rooms, mutes, bans, passwords, flood) stays the hub's: the door
// keeps only what IRC needs (registration, capabilities, the channels joined). IrcDoor wires
// the parts in this folder; of its own it only sends each line to the part that handles it.

import type { FramerSink } from "../../protocol/framing.ts";
import type { Client, Hub, Peer } from "../hub.ts";
import { Commands } from "./commands.ts";
import { Events, type HubEvent } from "./events.ts";
import { lineCost, OVERLONG, Pacing } from "./pacing.ts";
import { ircLine } from "./render.ts";
import { CAPS, Registration } from "./registration.ts";
import { Requests } from "./requests.ts";
import {
  type DoorOptions,
  type DoorState,
  IrcIdentities,
  type IrcIdentity,
  newState,
} from "./state.ts";
import { IrcWire, USER_HOST } from "./wire.ts";

export { CAPS, type DoorOptions, IrcIdentities, type IrcIdentity, USER_HOST };

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * One IRC connection: the hub's Peer (it takes the hub's JSON events) and the session's
 * FramerSink (it takes the client's IRC lines).
 */
export class IrcDoor implements Peer, FramerSink {
  readonly address: string;
  readonly #peer: Peer;
  readonly #opts: DoorOptions;
  readonly #state: DoorState = newState();
  #hub: Hub | undefined;
  #client: Client | undefined;
  readonly #wire: IrcWire;
  readonly #pacing: Pacing;
  readonly #registration: Registration;
  readonly #commands: Commands;
  readonly #events: Events;

  constructor(peer: Peer, options: DoorOptions) {
    this.#peer = peer;
    this.address = peer.address;
    this.#opts = options;
    const state = this.#state;
    const wire = this.#wire = new IrcWire({
      serverName: options.serverName,
      state,
      write: (line, reply) => peer.write(encoder.encode(line), reply),
    });
    const requests = new Requests((line) => this.#hub!.input(this.#client!, line));
    const registration = this.#registration = new Registration({
      options,
      state,
      wire,
      requests,
      joined: (room) => events.joined(room),
      motd: (event) => events.motd(event),
      event: (event) => events.event(event),
    });
    this.#commands = new Commands({
      state,
      wire,
      requests,
      cap: (params) => registration.cap(params),
      ping: (params) => registration.ping(params),
    });
    const events: Events = this.#events = new Events({
      state,
      wire,
      requests,
      identities: options.identities,
      named: () => registration.named(),
      sasl: (event, context) => registration.sasl(event, context),
    });
    this.#pacing = new Pacing({
      rate: options.rate,
      burst: options.burst,
      cost: (command, params) =>
        state.registered
          ? lineCost(command, params, options.noticeCost, state.channels.size)
          : registration.cost(command, params),
      handle: (text, command, params) => this.#handle(text, command, params),
      open: () => this.#client?.closing === false,
      excess: () => {
        wire.send(ircLine(undefined, "ERROR", ["Closing link: Excess Flood"]));
        peer.close("flooding");
      },
    });
  }

  /** Binds the door to its hub client and puts that client in JSON mode. */
  start(hub: Hub, client: Client): void {
    this.#hub = hub;
    this.#client = client;
    this.#pacing.start();
    hub.input(client, "/proto json");
  }

  // --- Peer: events from the hub -------------------------------------------------

  write(bytes: Uint8Array): void {
    const text = decoder.decode(bytes);
    // The welcome and the name prompt come as text before JSON mode starts.
    if (!text.startsWith("{")) return;
    let event: HubEvent;
    try {
      event = JSON.parse(text);
    } catch {
      return;
    }
    this.#events.event(event);
  }

  close(reason?: string): void {
    this.#peer.close(reason);
  }

  // --- FramerSink: lines from the IRC client ---------------------------------------

  line(text: string | typeof OVERLONG): void {
    this.#pacing.line(text);
  }

  overlong(): void {
    this.#pacing.line(OVERLONG);
  }

  /** The connection has closed: its waiting lines and USER details go. */
  stop(): void {
    this.#pacing.stop();
    if (this.#state.registered) this.#opts.identities.delete(this.#state.nick!);
  }

  /** A line whose cost the pacing has paid: to registration, or to the commands after it. */
  #handle(text: string | typeof OVERLONG, command: string, params: string[]): void {
    if (text === OVERLONG) {
      this.#wire.numeric("417", ["Input line was too long"]);
      return;
    }
    if (command === "") return;
    if (text.includes("\uFFFD")) {
      // Not UTF-8 (the framer put U+FFFD for the bad bytes): refused, as UTF8ONLY says.
      this.#wire.send(
        ircLine(this.#opts.serverName, "FAIL", [
          command,
          "INVALID_UTF8",
          "Message rejected: use UTF-8",
        ]),
      );
      return;
    }
    if (!this.#state.registered) this.#registration.line(command, params);
    else this.#commands.command(command, params);
  }
}
