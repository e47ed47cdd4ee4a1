// What the parts of one IRC door share: the options it runs with, who the client is to IRC
// (its nick, capabilities, channels) and every IRC user's USER details. Plain data; the
// parts in this folder read and change it, door.ts owns it.

import type { ServerEvent } from "../../protocol/events.ts";

/** A user name and real name an IRC client gave with USER. */
export interface IrcIdentity {
  user: string;
  real: string;
}

/**
 * The USER details of everyone connected through the door, by name (ASCII case ignored), so
 * WHO and WHOIS show them to other IRC users. Other kinds of client have none: their name.
 */
export class IrcIdentities {
  readonly #byName = new Map<string, IrcIdentity>();

  get(name: string): IrcIdentity | undefined {
    return this.#byName.get(name.toLowerCase());
  }

  set(name: string, identity: IrcIdentity): void {
    this.#byName.set(name.toLowerCase(), identity);
  }

  delete(name: string): void {
    this.#byName.delete(name.toLowerCase());
  }
}

/** What the door needs to know of the server. */
export interface DoorOptions {
  /** Every IRC user's USER details, shared by all doors of a server. */
  identities: IrcIdentities;
  /** The server name the door uses as its source (`--irc-name`). */
  serverName: string;
  version: string;
  /** When the server started, for 003. */
  started: Date;
  maxNameLength: number;
  maxRoomsPerUser: number;
  /** The hub's flood control: lines a second after a burst (rate 0: none). */
  rate: number;
  burst: number;
  /** What a join, part, rename or topic costs of the flood allowance, as in the hub. */
  noticeCost: number;
}

/** One door's client as IRC sees it; shared by the door's parts. */
export interface DoorState {
  /** The name the hub knows this client by, once it has one. */
  nick: string | undefined;
  /** 001 has been sent (or is being sent): commands are handled, numerics name the nick. */
  registered: boolean;
  /** USER's user name and real name, shown to IRC users in WHOIS and WHO. */
  user: IrcIdentity | undefined;
  /** The IRCv3 capabilities the client asked for. */
  readonly caps: Set<string>;
  /** Channels this client is in, as the hub spells them. */
  readonly channels: Set<string>;
  /** The hub made this client an operator (OPER). */
  operator: boolean;
  /** The server asks for its password first (the `mode` event said so). */
  serverPassword: boolean;
  /** Events held while the welcome is being sent (the lobby's history comes after it). */
  held: ServerEvent[] | undefined;
}

/** The state of a door whose client has just connected. */
export function newState(): DoorState {
  return {
    nick: undefined,
    registered: false,
    user: undefined,
    caps: new Set(),
    channels: new Set(),
    operator: false,
    serverPassword: false,
    held: undefined,
  };
}

/** The name numerics address the client by: its nick once registered, `*` before. */
export function me(state: DoorState): string {
  return state.registered ? state.nick! : "*";
}
