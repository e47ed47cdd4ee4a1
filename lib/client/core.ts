// The chat client's protocol as a pure state machine: server lines, user lines and
// the end of input go in, actions (send a line, show an event, ask for a name, reconnect,
// exit) come out. It never sees a socket, a timer or a terminal; client_app.ts wires those.

import { type Command, helpLines, parseInput } from "../protocol/commands.ts";
import { type ErrorCode, LOBBY, markedRoom, type ServerEvent } from "../protocol/events.ts";
import { nameKey } from "../protocol/names.ts";
import { sanitize } from "../protocol/sanitize.ts";
import { reconnectDelay } from "../protocol/reconnect.ts";
// A room change counts as the server's notice cost: rejoining many rooms after a reconnect
// is paced so none is dropped.
import { DEFAULT_NOTICE_COST as ROOM_CHANGE_LINES } from "../protocol/token_bucket.ts";

/** What the client does next. */
export type ClientAction =
  /**
   * Send one input line to the server; it counts as `lines` under the server's flood control
   * when that is more than one (a room change).
   */
  | { type: "send"; line: string; lines?: number }
  /**
   * Show an event (from the server, or made locally: own messages, local errors, help);
   * `mark` is the room it comes from when that is not the active one (`[#dev] ` in front).
   */
  | { type: "show"; event: ServerEvent; mark?: string }
  /** Ask the user for a name with the server's prompt text. */
  | { type: "ask-name"; text: string }
  /** Ask the user for a password (typed hidden) with the server's prompt text. */
  | { type: "ask-password"; text: string }
  /** The user's name is now `name`: chatting (again). */
  | { type: "named"; name: string }
  /** The server's flood control: send at most `rate` lines a second after `burst` at once. */
  | { type: "pace"; rate: number; burst: number }
  /** The room the user talks in is now `room`; none when in no room. */
  | { type: "room"; room: string | undefined }
  /** Close this connection if it is still open; after `delayMs`, open a new one and call start(). */
  | { type: "reconnect"; delayMs: number }
  /** Leave with this exit code; `error` is the one line to print, if any. */
  | { type: "exit"; code: number; error?: string };

/** Where the client is in its life. */
export type ClientState =
  /** Connected, waiting for the server to confirm JSON mode. */
  | "connecting"
  /**
   * A password was sent, or the server wants its own: waiting for the server to ask or to
   * answer (a prompt again, a name prompt, `named` or `ready`). Input waits meanwhile.
   */
  | "authenticating"
  /** Waiting for the user to type a password (the server's, or a registered name's), hidden. */
  | "password"
  /** Waiting for the user to type a name. */
  | "naming"
  /** A name was sent; waiting for the server to accept or refuse it. */
  | "naming-sent"
  /** Named and chatting. */
  | "chat"
  /** /quit was sent; waiting for the server to close. */
  | "quitting"
  /** The server said bye; waiting for it to close. */
  | "closing"
  /**
   * The connection was lost (or an attempt to open a new one failed): waiting to connect
   * again. Input waits meanwhile.
   */
  | "reconnecting"
  /** The connection is over. */
  | "closed";

/** Settings for a {@link ChatCore}. */
export interface ChatCoreOptions {
  /** The name to take at once (`--name`). */
  name?: string;
  /** The server's password (`--password`), sent once when the server asks. */
  password?: string;
  /**
   * Input is piped (plain line mode): a wrong password ends the client rather than take the
   * next line as another try, and an `--auto-name` server's client takes its first line (when
   * there is no `name`) as its name.
   */
  piped?: boolean;
  /** The clock for locally made events; `Date.now` unless testing. */
  now?: () => number;
  /**
   * Connect again when a named session's connection is lost or the server shuts down,
   * instead of exiting 1 (the app can open a new connection).
   */
  reconnect?: boolean;
  /** A number in [0, 1) for the reconnect delay's jitter; `Math.random` unless testing. */
  random?: () => number;
}

/** The line that switches a connection to JSON events. */
export const PROTO_JSON = "/proto json";

const END = Symbol("end of input");

/** Secrets a client remembers, to refuse them as chat if typed again. */
const SECRETS_REMEMBERED = 4;

/** Room lines a client remembers having shown, to skip them when history replays them. */
const LINES_REMEMBERED = 1000;

/** A server's bye that is no reason to stay away: it is going down (and maybe coming back). */
const BYE_RECONNECTS = /shutting down/i;

/**
 * Where a two-step command (`/pm bob` then the text) sends the next line: a room of ours, the
 * line then shown as our own (`undefined`: the active one when it is sent), or elsewhere
 * (people, a room we are not in), not shown.
 */
type Pending = { room: string | undefined } | "elsewhere";

/** The client side of one connection. */
export class ChatCore {
  #state: ClientState = "connecting";
  #me: string | undefined;
  /**
   * The rooms we are in, in the order joined; while reconnecting and until the server says
   * otherwise, the ones we go back to.
   */
  #rooms: string[] = [];
  /** The room plain lines go to (one of `#rooms`); none before a name or after the last part. */
  #active: string | undefined;
  /** After a reconnect, until the server confirms `/part #lobby`: #lobby is not ours. */
  #lobbyParted = false;
  /** Names online by lower-case key. */
  readonly #users = new Map<string, string>();
  #pending: Pending | undefined;
  /** `/users` replies the client asked for itself, not to be shown. */
  #hiddenUsers = 0;
  #byeReceived = false;
  /** The server said bye for a reason to come back after (it shut down): the reason. */
  #byeReconnects: string | undefined;
  #sawText = false;
  #wantedName: string | undefined;
  #lastNameError: string | undefined;
  #password: string | undefined;
  /** Whether the server let us in (it needed no password, or took ours). */
  #admitted = false;
  /** What the password being asked for is for. */
  #passwordFor: "server" | "name" = "server";
  /** Secrets sent on this connection, the last few: typed again, they are not sent as chat. */
  readonly #secrets: string[] = [];
  /** Input waiting until the client can take it (while connecting or naming). */
  readonly #queue: (string | typeof END)[] = [];
  readonly #now: () => number;
  readonly #piped: boolean;
  /** The server's answer to the last password sent, when it was refused. */
  #passwordRefused: string | undefined;
  /** Auto-named with piped input: the first line of input is the name wanted instead. */
  #nameFromInput = false;
  readonly #reconnect: boolean;
  readonly #random: () => number;
  /** The server's password last sent, for the next connection. */
  #serverPassword: string | undefined;
  /** The name a name-password prompt is about. */
  #passwordName: string | undefined;
  /** Passwords given for names (by lower-case name), to take the name back on reconnect. */
  readonly #namePasswords = new Map<string, string>();
  /** Reconnect attempts since the connection was lost; 0 while connected and named. */
  #attempt = 0;
  /** Why the connection was lost, while reconnecting. */
  #lost = "";
  /** While reconnecting and until named again: the name to take back. */
  #rejoinName: string | undefined;
  /** Keys of room lines shown (ts, sender, room, text), oldest first. */
  readonly #shown = new Set<string>();
  /** Own room lines shown locally (the server never echoes them, so its ts is unknown). */
  readonly #ownShown: string[] = [];

  constructor(options: ChatCoreOptions = {}) {
    this.#wantedName = options.name;
    this.#password = options.password;
    this.#now = options.now ?? Date.now;
    this.#piped = options.piped ?? false;
    this.#reconnect = options.reconnect ?? false;
    this.#random = options.random ?? Math.random;
  }

  /** Where the client is. */
  get state(): ClientState {
    return this.#state;
  }

  /** Your name, once the server has accepted one. */
  get me(): string | undefined {
    return this.#me;
  }

  /** The names online, as last reported by the server. */
  get names(): string[] {
    return [...this.#users.values()];
  }

  /** The room you talk in (or, while reconnecting, will be back in); none when in no room. */
  get room(): string | undefined {
    return this.#active;
  }

  /** The rooms you are in (or, while reconnecting, will be back in), in the order joined. */
  get rooms(): string[] {
    return [...this.#rooms];
  }

  /** The first thing to do on a new connection (the first, or one after a `reconnect`). */
  start(): ClientAction[] {
    if (this.#state === "reconnecting") {
      this.#state = "connecting";
      this.#sawText = false;
      this.#byeReceived = false;
      this.#byeReconnects = undefined;
      this.#admitted = false;
      this.#hiddenUsers = 0;
      this.#pending = undefined;
      this.#users.clear();
      this.#wantedName = this.#rejoinName;
      this.#password = this.#serverPassword;
    }
    return [{ type: "send", line: PROTO_JSON }];
  }

  /** Handles one line from the server. */
  serverLine(line: string): ClientAction[] {
    if (this.#state === "closed" || this.#state === "reconnecting") return [];
    let event: ServerEvent | undefined;
    if (line.startsWith("{")) {
      try {
        event = JSON.parse(line);
      } catch {
        event = undefined;
      }
    }
    if (!event || typeof event.type !== "string") {
      // Text lines come before the switch to JSON: show the welcome, skip the prompt.
      if (this.#state !== "connecting" || !this.#sawText) {
        this.#sawText = true;
        if (line.trim() !== "") return [this.#show({ type: "system", text: line })];
      }
      return [];
    }
    return [...this.#event(event), ...this.#drain()];
  }

  /** Handles one line the user entered; it waits its turn while a name is being settled. */
  userLine(line: string): ClientAction[] {
    this.#queue.push(line);
    return this.#drain();
  }

  /**
   * The user's input has ended (stdin EOF): leave once every earlier line is handled. While
   * reconnecting with nothing waiting to be sent, leave at once.
   */
  endOfInput(): ClientAction[] {
    if (this.#state === "reconnecting" && this.#queue.length === 0) return this.quit();
    this.#queue.push(END);
    return this.#drain();
  }

  /**
   * Ctrl+X: switch to the next room you are in after the active one, in the order joined
   * (cycling), with `/join`; the server's `room` event then moves the prompt. In no room
   * but the active one, a notice says so and nothing is sent.
   */
  nextRoom(): ClientAction[] {
    if (this.#state !== "chat") return [];
    const at = this.#rooms.findIndex((r) => sameRoom(r, this.#active));
    const next = this.#rooms.find((r, i) => i > at && !sameRoom(r, this.#active)) ??
      this.#rooms.find((r) => !sameRoom(r, this.#active));
    if (next === undefined) {
      return [this.#show({ type: "system", text: "no other room to switch to (/join #ROOM)" })];
    }
    return [{ type: "send", line: `/join ${next}` }];
  }

  /**
   * Leave now (Ctrl+C, Ctrl+D, a signal): send /quit and wait for the server to close.
   * While waiting to reconnect, exit 1 at once with why the connection was lost.
   */
  quit(): ClientAction[] {
    if (this.#state === "reconnecting") {
      this.#state = "closed";
      return [{ type: "exit", code: 1, error: this.#lost }];
    }
    if (this.#state === "quitting" || this.#state === "closing" || this.#state === "closed") {
      return [];
    }
    this.#state = "quitting";
    this.#queue.length = 0;
    return [{ type: "send", line: "/quit" }];
  }

  /**
   * The connection is over, or (while reconnecting) a new one could not be opened; `reason`
   * says how, when the server did not say bye. A named session reconnects unless it quit or
   * the server sent it away; otherwise the client exits.
   */
  closed(reason: string): ClientAction[] {
    if (this.#state === "closed") return [];
    const quit = this.#state === "quitting" ||
      (this.#byeReceived && this.#byeReconnects === undefined);
    const named = this.#me !== undefined || this.#rejoinName !== undefined;
    if (!quit && this.#reconnect && named) return this.#lose(this.#byeReconnects ?? reason);
    const clean = this.#byeReceived || this.#state === "quitting";
    this.#state = "closed";
    return [clean ? { type: "exit", code: 0 } : { type: "exit", code: 1, error: reason }];
  }

  /** Waits to connect again, saying so; keeps the name, the room and the input for then. */
  #lose(reason: string): ClientAction[] {
    this.#state = "reconnecting";
    this.#lost = reason;
    this.#attempt++;
    if (this.#me !== undefined) this.#rejoinName = this.#me;
    this.#me = undefined;
    const delayMs = reconnectDelay(this.#attempt, this.#random());
    const seconds = Math.max(1, Math.round(delayMs / 1000));
    return [
      this.#show({
        type: "system",
        text: `${reason}; reconnecting in ${seconds} s (attempt ${this.#attempt})`,
      }),
      { type: "reconnect", delayMs },
    ];
  }

  // --- server events -------------------------------------------------------------

  #event(e: ServerEvent): ClientAction[] {
    // A parted #lobby is joined again on naming after a reconnect: what it says is not ours.
    if (this.#lobbyParted && "room" in e && sameRoom(e.room, LOBBY) && !this.#isOwnLeave(e)) {
      return [];
    }
    switch (e.type) {
      case "mode": {
        const pace: ClientAction[] = typeof e.rate === "number" && typeof e.burst === "number"
          ? [{ type: "pace", rate: e.rate, burst: e.burst }]
          : [];
        return [...pace, ...this.#modeChanged(e.name, e.password === true)];
      }
      case "named":
        return this.#named(e);
      case "prompt":
        if (e.for === "password") {
          return this.#passwordPrompt(e.about, e.text, e.about === "name" ? e.name : undefined);
        }
        if (e.for === "ready") return this.#ready(e);
        if (this.#state === "authenticating") {
          // The server took our password and now asks for a name.
          this.#admitted = true;
          const wanted = this.#wantedName;
          this.#wantedName = undefined;
          return wanted !== undefined ? this.#sendName(wanted) : this.#askName(e.text);
        }
        if (this.#state !== "naming" && this.#state !== "naming-sent") return [];
        return this.#askName(e.text);
      case "error":
        if (
          e.code === "name-taken" || e.code === "name-invalid" || e.code === "name-banned" ||
          e.code === "wrong-password" || e.code === "locked-out" || e.code === "busy"
        ) {
          this.#lastNameError = e.text;
          // Taking the name back failed (its old connection lingers, say): try again later.
          if (this.#me === undefined && this.#rejoinName !== undefined) {
            return [{ type: "show", event: e }, ...this.#lose(e.text)];
          }
        }
        this.#passwordRefused = e.code === "wrong-password" || e.code === "locked-out"
          ? e.text
          : undefined;
        return [{ type: "show", event: e }];
      case "users":
        // `/users *` is everyone online; a room's list only adds to what we know.
        if (e.room === "*") this.#users.clear();
        for (const n of e.names) this.#users.set(n.toLowerCase(), n);
        if (this.#hiddenUsers > 0) {
          this.#hiddenUsers--;
          return [];
        }
        return [{ type: "show", event: e }];
      case "join":
        this.#users.set(e.name.toLowerCase(), e.name);
        return [this.#display(e)];
      case "leave":
        // Someone who left a room is still online; our own leave takes the room off our list.
        return this.#isOwnLeave(e) ? this.#parted(e) : [this.#display(e)];
      case "quit":
        this.#users.delete(e.name.toLowerCase());
        return [this.#display(e)];
      case "room":
        if (this.#ourRoom(e.room) === undefined) this.#rooms.push(e.room);
        this.#active = e.room;
        return [this.#display(e), { type: "room", room: e.room }];
      case "message":
      case "action":
        return this.#roomLine(e);
      case "rename":
        this.#users.delete(e.from.toLowerCase());
        this.#users.set(e.to.toLowerCase(), e.to);
        return [{ type: "show", event: e }];
      case "bye":
        this.#byeReceived = true;
        this.#byeReconnects = BYE_RECONNECTS.test(e.reason) ? e.reason : undefined;
        this.#state = "closing";
        return [{ type: "show", event: e }];
      default:
        return [this.#display(e)];
    }
  }

  /**
   * An event to show, marked with its room when it is a room's line (a message, an action, a
   * join, a leave, a topic) and that room is not the active one.
   */
  #display(e: ServerEvent): ClientAction {
    const room = markedRoom(e);
    return room === undefined || sameRoom(room, this.#active)
      ? { type: "show", event: e }
      : { type: "show", event: e, mark: room };
  }

  #isOwnLeave(e: ServerEvent): e is Extract<ServerEvent, { type: "leave" }> {
    return e.type === "leave" && this.#me !== undefined && e.name === this.#me;
  }

  /**
   * We left a room (it is marked when it was not the active one). Parting the active one
   * leaves us in none until the server's `room` event says which is active now.
   */
  #parted(e: Extract<ServerEvent, { type: "leave" }>): ClientAction[] {
    const shown = this.#display(e);
    this.#rooms = this.#rooms.filter((r) => !sameRoom(r, e.room));
    if (this.#lobbyParted && sameRoom(e.room, LOBBY)) {
      // Parted again after a reconnect, as it was before: nothing new to the user.
      this.#lobbyParted = false;
      return [];
    }
    if (!sameRoom(e.room, this.#active)) return [shown];
    this.#active = undefined;
    return [shown, { type: "room", room: undefined }];
  }

  #modeChanged(name: string | null, needsPassword: boolean): ClientAction[] {
    if (this.#state !== "connecting") return [];
    if (needsPassword) {
      // The server's password prompt follows this event.
      this.#state = "authenticating";
      return [];
    }
    this.#admitted = true;
    if (name !== null) {
      // An --auto-name server has named us already.
      return this.#becomeNamed({ type: "named", ts: this.#now(), name, auto: true });
    }
    const wanted = this.#wantedName;
    this.#wantedName = undefined;
    if (wanted !== undefined) return this.#sendName(wanted);
    return this.#askName("choose a name:");
  }

  #named(e: Extract<ServerEvent, { type: "named" }>): ClientAction[] {
    if (this.#me === undefined) {
      this.#admitted = true;
      return this.#becomeNamed(e);
    }
    // A registered name's password was taken: chatting again, under the new name.
    if (this.#state === "authenticating" || this.#state === "password") this.#state = "chat";
    this.#users.delete(this.#me.toLowerCase());
    this.#me = e.name;
    this.#users.set(e.name.toLowerCase(), e.name);
    return [{ type: "show", event: e }, { type: "named", name: e.name }];
  }

  #becomeNamed(e: Extract<ServerEvent, { type: "named" }>): ClientAction[] {
    this.#me = e.name;
    this.#users.set(e.name.toLowerCase(), e.name);
    if (this.#state !== "chat" && this.#state !== "quitting" && this.#state !== "closing") {
      this.#state = "chat";
    }
    this.#hiddenUsers++;
    let acts: ClientAction[];
    if (this.#rejoinName !== undefined) {
      acts = this.#rejoined(e.name);
    } else {
      // Everyone starts in the lobby (the server sends no `room` event for it).
      this.#rooms = [LOBBY];
      this.#active = LOBBY;
      acts = [
        { type: "show", event: e },
        { type: "named", name: e.name },
        { type: "send", line: "/users *" },
      ];
    }
    // An --auto-name server named us; --name asked for another.
    const wanted = this.#wantedName;
    this.#wantedName = undefined;
    if (wanted !== undefined && wanted !== e.name) acts.push(...this.#sendName(wanted));
    if (e.auto && wanted === undefined && this.#piped) this.#nameFromInput = true;
    return acts;
  }

  /**
   * Named again after a reconnect (in #lobby, as everyone): back in every room we were in,
   * the active one joined last so it is active again, and out of #lobby if we had parted it.
   * Each replay shows what we missed there. Until the server says otherwise, the rooms and
   * the active one stay what they were, so lines typed meanwhile show where they will go.
   */
  #rejoined(name: string): ClientAction[] {
    this.#rejoinName = undefined;
    this.#attempt = 0;
    const acts: ClientAction[] = [
      this.#show({ type: "system", text: `reconnected as ${name}` }),
      { type: "named", name },
      { type: "send", line: "/users *" },
    ];
    const active = this.#active;
    const joins = this.#rooms.filter((r) => !sameRoom(r, LOBBY) && !sameRoom(r, active));
    // The last join makes its room active: the active one goes last (even #lobby, after others).
    if (active !== undefined && (joins.length > 0 || !sameRoom(active, LOBBY))) joins.push(active);
    for (const room of joins) {
      // Back in #lobby already: joining it again only makes it active.
      const line = `/join ${room}`;
      acts.push(sameRoom(room, LOBBY) ? { type: "send", line } : roomChange(line));
    }
    if (this.#ourRoom(LOBBY) === undefined) {
      this.#lobbyParted = true;
      acts.push(roomChange(`/part ${LOBBY}`));
    }
    return acts;
  }

  /** A room line, shown unless history replays one already shown (after a reconnect or a join). */
  #roomLine(e: Extract<ServerEvent, { type: "message" | "action" }>): ClientAction[] {
    const room = e.room.toLowerCase();
    const key = `${e.type}\n${e.ts}\n${e.from}\n${room}\n${e.text}`;
    if (e.history) {
      if (this.#shown.has(key)) return [];
      if (e.from === this.#me) {
        const own = this.#ownShown.indexOf(`${e.type}\n${room}\n${e.text}`);
        if (own >= 0) {
          // Known by its server time from now on.
          this.#ownShown.splice(own, 1);
          this.#rememberShown(key);
          return [];
        }
      }
    }
    this.#rememberShown(key);
    return [this.#display(e)];
  }

  #rememberShown(key: string): void {
    this.#shown.add(key);
    if (this.#shown.size > LINES_REMEMBERED) {
      this.#shown.delete(this.#shown.values().next().value!);
    }
  }

  /**
   * The server asks for a password: its own (before it let us in; `--password` is sent
   * once) or a registered name's, again after a wrong one. The user types it, hidden.
   */
  #passwordPrompt(about: "server" | "name", text: string, name?: string): ClientAction[] {
    if (this.#state === "quitting" || this.#state === "closing") return [];
    const refused = this.#passwordRefused;
    if (this.#piped && refused !== undefined) {
      // No one to ask again, and the next input line is not a password.
      this.#state = "closed";
      this.#queue.length = 0;
      const error = refused.replace(/; try again$/, "");
      return [{ type: "send", line: "/quit" }, { type: "exit", code: 1, error }];
    }
    this.#passwordFor = about;
    this.#passwordName = name;
    if (about === "server" && this.#password !== undefined) {
      const password = this.#password;
      this.#password = undefined;
      return this.#sendPassword(password);
    }
    this.#state = "password";
    return [{ type: "ask-password", text }];
  }

  /** Sends a password (kept for the next connection); input waits until the server answers. */
  #sendPassword(password: string): ClientAction[] {
    this.#remember(password);
    if (this.#passwordFor === "server") this.#serverPassword = password;
    else if (this.#passwordName !== undefined) {
      this.#namePasswords.set(this.#passwordName.toLowerCase(), password);
    }
    this.#state = "authenticating";
    return [{ type: "send", line: `/pass ${password}` }];
  }

  /** A named client left a password prompt without a new name: chatting again. */
  #ready(e: Extract<ServerEvent, { type: "prompt" }>): ClientAction[] {
    if (
      this.#me === undefined || (this.#state !== "authenticating" && this.#state !== "password")
    ) {
      return [];
    }
    this.#state = "chat";
    return [{ type: "show", event: e }, { type: "named", name: this.#me }];
  }

  #askName(text: string): ClientAction[] {
    this.#state = "naming";
    return [{ type: "ask-name", text }];
  }

  /**
   * Sends a name, with the password given for it before, if any; a name with spaces is
   * refused here, since /nick takes one word.
   */
  #sendName(name: string): ClientAction[] {
    const trimmed = name.trim();
    if (trimmed === "" || /\s/.test(trimmed)) {
      const text = trimmed === ""
        ? "invalid name: a name cannot be empty"
        : "invalid name: a name cannot contain spaces";
      this.#lastNameError = text;
      const acts: ClientAction[] = [this.#error("name-invalid", text)];
      if (this.#me === undefined) acts.push(...this.#askName("choose a name:"));
      return acts;
    }
    if (this.#me === undefined) this.#state = "naming-sent";
    const password = this.#namePasswords.get(trimmed.toLowerCase());
    return [{ type: "send", line: `/nick ${trimmed}${password ? ` ${password}` : ""}` }];
  }

  // --- user input ------------------------------------------------------------------

  #drain(): ClientAction[] {
    const acts: ClientAction[] = [];
    while (
      this.#queue.length > 0 &&
      (this.#state === "naming" || this.#state === "chat" || this.#state === "password")
    ) {
      const item = this.#queue.shift()!;
      if (item === END) {
        if (this.#state === "chat") {
          acts.push(...this.quit());
        } else {
          const error = this.#state === "password"
            ? (this.#lastNameError ?? "no password was given")
            : (this.#lastNameError ?? "no name was given");
          this.#state = "closed";
          acts.push({ type: "send", line: "/quit" }, { type: "exit", code: 1, error });
        }
        break;
      }
      if (this.#state === "password") {
        acts.push(...this.#passwordLine(item));
      } else if (this.#nameFromInput && this.#state === "chat") {
        acts.push(...this.#autoNamedLine(item));
      } else {
        acts.push(...(this.#state === "naming" ? this.#nameLine(item) : this.#chatLine(item)));
      }
    }
    return acts;
  }

  /**
   * A line typed at a password prompt: the password, sent as /pass so it is never taken for
   * chat or a name. An empty line gives up a registered name's prompt (the server then asks
   * for a name, or says `ready`); at the server's prompt it does nothing.
   */
  #passwordLine(line: string): ClientAction[] {
    if (line.trim() !== "") return this.#sendPassword(line);
    if (this.#passwordFor === "server") return [];
    this.#state = "authenticating";
    return [{ type: "send", line: "" }];
  }

  /** Whether a line is a secret sent before: refused here, never sent as chat or a name. */
  #looksLikeSecret(text: string): ClientAction[] | undefined {
    if (!this.#secrets.includes(text.trim())) return undefined;
    return [this.#error("looks-like-password", "that looks like a password; it was not sent")];
  }

  /**
   * Remembers the password of a command (/nick NAME PASSWORD, /op, /register, /pass); a
   * name's, to take the name back on reconnect.
   */
  #rememberSecret(cmd: Command): void {
    if ("password" in cmd && cmd.password !== undefined) this.#remember(cmd.password);
    if (cmd.name === "changeusername" && cmd.password !== undefined) {
      this.#namePasswords.set(cmd.nick.toLowerCase(), cmd.password);
    } else if (cmd.name === "register" && this.#me !== undefined) {
      this.#namePasswords.set(this.#me.toLowerCase(), cmd.password);
    } else if (cmd.name === "unregister" && this.#me !== undefined) {
      this.#namePasswords.delete(this.#me.toLowerCase());
    }
  }

  #remember(secret: string): void {
    this.#secrets.push(secret.trim());
    if (this.#secrets.length > SECRETS_REMEMBERED) this.#secrets.shift();
  }

  /** A line the parser refused, answered here without a round trip. */
  #inputError(input: Extract<ReturnType<typeof parseInput>, { kind: "error" }>): ClientAction {
    return this.#error(input.code ?? (input.usage ? "usage" : "unknown-command"), input.message);
  }

  /** A line typed while the client has no name: the name, or a command that works now. */
  #nameLine(line: string): ClientAction[] {
    const input = parseInput(line);
    if (input.kind === "text") {
      const refused = this.#looksLikeSecret(input.text);
      if (refused) return refused;
    }
    if (input.kind === "command") this.#rememberSecret(input.command);
    switch (input.kind) {
      case "empty":
        return [];
      case "error":
        return [this.#inputError(input)];
      case "text":
        return this.#sendName(input.text);
    }
    const cmd = input.command;
    const local = this.#answerLocally(cmd);
    if (local) return local;
    switch (cmd.name) {
      case "changeusername":
        return this.#sendName(cmd.nick);
      default:
        return [this.#error("no-name", "choose a name first (type a name, or /nick NAME)")];
    }
  }

  /**
   * The first line of piped input after an `--auto-name` server named us: plain text is the
   * name wanted instead (sent as /nick); a command is taken as chat input and ends this.
   */
  #autoNamedLine(line: string): ClientAction[] {
    const input = parseInput(line);
    if (input.kind === "empty") return [];
    this.#nameFromInput = false;
    if (input.kind !== "text") return this.#chatLine(line);
    return this.#looksLikeSecret(input.text) ?? this.#sendName(input.text);
  }

  /** A line typed while chatting. */
  #chatLine(line: string): ClientAction[] {
    const input = parseInput(line, { isUser: (n) => this.#users.has(n.toLowerCase()) });
    if (input.kind === "text") {
      const refused = this.#looksLikeSecret(input.text);
      if (refused) {
        this.#pending = undefined;
        return refused;
      }
    }
    if (input.kind === "command") this.#rememberSecret(input.command);
    const pending = this.#pending;
    if (pending && (input.kind === "text" || input.kind === "empty")) {
      // The second line of `/pm bob` + text: the server routes it; shown if to a room of ours.
      this.#pending = undefined;
      const acts: ClientAction[] = [{ type: "send", line }];
      if (pending !== "elsewhere" && input.kind === "text") {
        acts.push(...this.#own(input.text, "message", pending.room ?? this.#active));
      }
      return acts;
    }
    this.#pending = undefined;
    switch (input.kind) {
      case "empty":
        return [];
      case "error":
        return [this.#inputError(input)];
      case "text":
        return [{ type: "send", line }, ...this.#own(input.text, "message", this.#active)];
    }
    const cmd = input.command;
    const local = this.#answerLocally(cmd);
    if (local) return local;
    switch (cmd.name) {
      case "sendall":
      case "pm":
      case "groupmessage": {
        // `/msg #dev TEXT` speaks in #dev (one of ours, or the server refuses it).
        const room = cmd.name === "pm" && cmd.to.startsWith("#")
          ? this.#ourRoom(cmd.to)
          : undefined;
        const pending: Pending = cmd.name === "sendall"
          ? { room: undefined }
          : room !== undefined
          ? { room }
          : "elsewhere";
        if (cmd.text === undefined) {
          this.#pending = pending;
          return [{ type: "send", line }];
        }
        return [
          { type: "send", line },
          ...(pending === "elsewhere"
            ? []
            : this.#own(cmd.text, "message", pending.room ?? this.#active)),
        ];
      }
      case "me":
        return [{ type: "send", line }, ...this.#own(cmd.text, "action", this.#active)];
      case "join":
        // A room we are in is only made active: no room change.
        return [this.#ourRoom(cmd.room) ? { type: "send", line } : roomChange(line)];
      case "part":
        return [roomChange(line)];
      default:
        return [{ type: "send", line }];
    }
  }

  /**
   * Your own message or action to `room`, shown locally: the server does not echo it. In no
   * room, nothing is shown (the server says why nothing was sent).
   */
  #own(text: string, type: "message" | "action", room: string | undefined): ClientAction[] {
    const clean = sanitize(text);
    if (clean === "" || this.#me === undefined || room === undefined) return [];
    this.#ownShown.push(`${type}\n${room.toLowerCase()}\n${clean}`);
    if (this.#ownShown.length > LINES_REMEMBERED) this.#ownShown.shift();
    return [this.#display({ type, ts: this.#now(), from: this.#me, room, text: clean })];
  }

  /** The room of ours named `room` (any case, look-alikes too), as the server spells it. */
  #ourRoom(room: string): string | undefined {
    return this.#rooms.find((r) => sameRoom(r, room));
  }

  /** Commands the client answers itself, with or without a name; undefined for the rest. */
  #answerLocally(cmd: Command): ClientAction[] | undefined {
    switch (cmd.name) {
      case "help":
        return [this.#show({ type: "help", lines: helpLines(cmd.topic) })];
      case "disconnect":
        return this.quit();
      case "proto":
        return [this.#protoRefused()];
    }
  }

  #protoRefused(): ClientAction {
    return this.#error(
      "usage",
      "the client keeps the connection in JSON mode; /proto is not available",
    );
  }

  #error(code: ErrorCode, text: string): ClientAction {
    return this.#show({ type: "error", code, text });
  }

  /** A locally made event, stamped with the client's clock. */
  #show<E extends DistributiveOmit<ServerEvent, "ts">>(event: E): ClientAction {
    return { type: "show", event: { ...event, ts: this.#now() } as ServerEvent };
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** Sends a line that changes rooms: it counts as several lines under flood control. */
function roomChange(line: string): ClientAction {
  return { type: "send", line, lines: ROOM_CHANGE_LINES };
}

/** Whether two room names are one room (any case, look-alikes too); never for a missing one. */
function sameRoom(a: string | undefined, b: string | undefined): boolean {
  return a !== undefined && b !== undefined && nameKey(a) === nameKey(b);
}
