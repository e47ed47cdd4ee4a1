// Tests for lib/client/core.ts: the client's protocol state machine, fed server lines
// and user lines, with the actions it takes written as short strings.

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { ChatCore, type ChatCoreOptions, type ClientAction } from "../lib/client/core.ts";
import { helpLines } from "../lib/protocol/commands.ts";
import type { ServerEvent } from "../lib/protocol/events.ts";

type Step =
  | ["server", ServerEvent | string]
  | ["user", string]
  | ["end"]
  | ["quit"]
  | ["closed", string]
  | ["start"]
  | ["ctrl-x"];

/**
 * An action as a short string: `send /users`, `send /part (counts as 5)` (a room change),
 * `show error: text`, `show [#dev] message: hi`
 * (marked with its room), `room (none)`, `exit 1: why`.
 */
function brief(a: ClientAction): string {
  switch (a.type) {
    case "send":
      return `send ${a.line}${a.lines ? ` (counts as ${a.lines})` : ""}`;
    case "show": {
      const e = a.event;
      const detail = "text" in e
        ? e.text
        : e.type === "help"
        ? `${e.lines.length} lines`
        : e.type === "users"
        ? e.names.join(",")
        : e.type === "named"
        ? e.name
        : e.type === "bye"
        ? e.reason
        : e.type === "join" || e.type === "leave"
        ? `${e.name} ${e.room}`
        : e.type === "quit"
        ? e.name
        : e.type === "room" || e.type === "history-end"
        ? e.room
        : "";
      return `show ${a.mark ? `[${a.mark}] ` : ""}${e.type}: ${detail}`;
    }
    case "ask-name":
      return `ask ${a.text}`;
    case "ask-password":
      return `ask hidden ${a.text}`;
    case "named":
      return `named ${a.name}`;
    case "room":
      return `room ${a.room ?? "(none)"}`;
    case "reconnect":
      return `reconnect in ${a.delayMs}`;
    case "exit":
      return `exit ${a.code}${a.error ? `: ${a.error}` : ""}`;
    case "pace":
      return `pace ${a.rate}/s after ${a.burst}`;
  }
}

function run(steps: Step[], options: ChatCoreOptions = {}): { core: ChatCore; actions: string[] } {
  const core = new ChatCore({ now: () => 0, random: () => 0.5, ...options });
  const actions = core.start().map(brief);
  for (const step of steps) {
    let acts: ClientAction[];
    switch (step[0]) {
      case "server":
        acts = core.serverLine(
          typeof step[1] === "string" ? step[1] : JSON.stringify(step[1]),
        );
        break;
      case "user":
        acts = core.userLine(step[1]);
        break;
      case "end":
        acts = core.endOfInput();
        break;
      case "quit":
        acts = core.quit();
        break;
      case "closed":
        acts = core.closed(step[1]);
        break;
      case "start":
        acts = core.start();
        break;
      case "ctrl-x":
        acts = core.nextRoom();
        break;
    }
    actions.push(...acts.map(brief));
  }
  return { core, actions };
}

const WELCOME = "welcome to linechat 0.1.0 (1 online)";
const MODE: ServerEvent = { type: "mode", ts: 0, mode: "json", name: null };
const NAMED_ALICE: ServerEvent = { type: "named", ts: 0, name: "alice", auto: false };
const USERS: ServerEvent = {
  type: "users",
  ts: 0,
  room: "*",
  names: ["bob", "alice"],
  count: 2,
  online: 2,
};
/** Connected and named alice, with the hidden /users reply consumed. */
const JOINED: Step[] = [
  ["server", WELCOME],
  ["server", "choose a name:"],
  ["server", MODE],
  ["user", "alice"],
  ["server", NAMED_ALICE],
  ["server", USERS],
];
const JOINED_ACTIONS = [
  "send /proto json",
  `show system: ${WELCOME}`,
  "ask choose a name:",
  "send /nick alice",
  "show named: alice",
  "named alice",
  "send /users *",
];

interface Case {
  name: string;
  /** The --name flag. */
  flag?: string;
  /** The --password flag. */
  password?: string;
  /** Input is piped (plain line mode). */
  piped?: boolean;
  steps: Step[];
  /** Actions after the JOINED prefix (when `joined`), or all of them. */
  want: string[];
  joined?: boolean;
  /** Reconnect when the connection is lost. */
  reconnect?: boolean;
  /** The rooms the client is in at the end, in the order joined. */
  rooms?: string[];
  /** The active room at the end (`null`: none). */
  active?: string | null;
}

const MODE_PASSWORD: ServerEvent = { ...MODE, password: true } as ServerEvent;
const ASK_PASSWORD: ServerEvent = {
  type: "prompt",
  ts: 0,
  for: "password",
  about: "server",
  text: "password:",
};
const ASK_NAME: ServerEvent = { type: "prompt", ts: 0, for: "name", text: "choose a name:" };
const WRONG: ServerEvent = {
  type: "error",
  ts: 0,
  code: "wrong-password",
  text: "wrong password; try again",
};

const ASK_BOB: ServerEvent = {
  type: "prompt",
  ts: 0,
  for: "password",
  about: "name",
  name: "bob",
  text: "password for bob:",
};
const BOB_REGISTERED: ServerEvent = {
  type: "error",
  ts: 0,
  code: "name-registered",
  text: "bob is registered: give its password",
};
const NAMED_BOB: ServerEvent = {
  type: "named",
  ts: 0,
  name: "bob",
  previous: "alice",
  auto: false,
};

/** The prompt states: hidden input until the server says named, ready or asks for a name. */
const PROMPT_CASES: Case[] = [
  {
    name: "a wrong name password keeps asking hidden; lines typed meanwhile are passwords",
    joined: true,
    steps: [
      ["user", "/nick bob"],
      ["server", BOB_REGISTERED],
      ["server", ASK_BOB],
      ["user", "bad"],
      ["user", "bobpw"], // typed before the answer: it waits, and is a password again
      ["server", { ...WRONG, text: "wrong password for bob; try again" } as ServerEvent],
      ["server", ASK_BOB],
      ["server", NAMED_BOB],
      ["user", "hello"],
    ],
    want: [
      "send /nick bob",
      "show error: bob is registered: give its password",
      "ask hidden password for bob:",
      "send /pass bad",
      "show error: wrong password for bob; try again",
      "ask hidden password for bob:",
      "send /pass bobpw",
      "show named: bob",
      "named bob",
      "send hello",
      "show message: hello",
    ],
  },
  {
    name: "an empty line gives up a name's password prompt; the ready prompt brings chat back",
    joined: true,
    steps: [
      ["user", "/nick bob"],
      ["server", BOB_REGISTERED],
      ["server", ASK_BOB],
      ["user", ""],
      ["user", "hi"],
      ["server", { type: "prompt", ts: 0, for: "ready", text: "back to chat as alice" }],
    ],
    want: [
      "send /nick bob",
      "show error: bob is registered: give its password",
      "ask hidden password for bob:",
      "send ",
      "show prompt: back to chat as alice",
      "named alice",
      "send hi",
      "show message: hi",
    ],
  },
  {
    name: "an empty line at the server's password prompt sends nothing",
    steps: [["server", MODE_PASSWORD], ["server", ASK_PASSWORD], ["user", ""], ["user", "pw"]],
    want: ["send /proto json", "ask hidden password:", "send /pass pw"],
  },
  {
    name: "a password typed again once it was taken is refused, not sent as chat",
    joined: true,
    steps: [
      ["user", "/nick bob"],
      ["server", BOB_REGISTERED],
      ["server", ASK_BOB],
      ["user", "bobpw"],
      ["user", "bobpw"],
      ["server", NAMED_BOB],
    ],
    want: [
      "send /nick bob",
      "show error: bob is registered: give its password",
      "ask hidden password for bob:",
      "send /pass bobpw",
      "show named: bob",
      "named bob",
      "show error: that looks like a password; it was not sent",
    ],
  },
  {
    name: "a password given in a command is remembered: alone on a line it is not sent",
    joined: true,
    steps: [["user", "/nick bob  bobpw "], ["server", NAMED_BOB], ["user", " bobpw"]],
    want: [
      "send /nick bob  bobpw ",
      "show named: bob",
      "named bob",
      "show error: that looks like a password; it was not sent",
    ],
  },
];

const MODE_GUEST: ServerEvent = { ...MODE, name: "guest-1" };
const GUEST_NAMED = ["send /proto json", "show named: guest-1", "named guest-1", "send /users *"];

const CASES: Case[] = [
  {
    name: "the mode event's rate and burst become a pace action",
    steps: [["server", { ...MODE, rate: 5, burst: 20 } as ServerEvent]],
    want: ["send /proto json", "pace 5/s after 20", "ask choose a name:"],
  },
  {
    name: "piped: a wrong --password exits at once; the next input line is never a password",
    password: "wrong",
    piped: true,
    steps: [
      ["server", MODE_PASSWORD],
      ["server", ASK_PASSWORD],
      ["user", "next line"],
      ["server", WRONG],
      ["server", ASK_PASSWORD],
    ],
    want: [
      "send /proto json",
      "send /pass wrong",
      "show error: wrong password; try again",
      "send /quit",
      "exit 1: wrong password",
    ],
  },
  {
    name: "piped: a wrong password read from input exits at once, not trying the next line",
    piped: true,
    steps: [
      ["server", MODE_PASSWORD],
      ["server", ASK_PASSWORD],
      ["user", "guess"],
      ["user", "another guess"],
      ["server", WRONG],
      ["server", ASK_PASSWORD],
    ],
    want: [
      "send /proto json",
      "ask hidden password:",
      "send /pass guess",
      "show error: wrong password; try again",
      "send /quit",
      "exit 1: wrong password",
    ],
  },
  {
    name: "piped, auto-named: the first input line is the name, sent as /nick",
    piped: true,
    steps: [["server", MODE_GUEST], ["user", ""], ["user", "alice"], ["user", "hello"]],
    want: [...GUEST_NAMED, "send /nick alice", "send hello", "show message: hello"],
  },
  {
    name: "piped, auto-named with --name: the first input line is chat",
    flag: "bob",
    piped: true,
    steps: [["server", MODE_GUEST], ["user", "hello"]],
    want: [...GUEST_NAMED, "send /nick bob", "send hello", "show message: hello"],
  },
  {
    name: "piped, auto-named: a command first keeps the given name",
    piped: true,
    steps: [["server", MODE_GUEST], ["user", "/users"], ["user", "alice"]],
    want: [...GUEST_NAMED, "send /users", "send alice", "show message: alice"],
  },
  {
    name: "on a terminal, auto-named: the first line is chat",
    steps: [["server", MODE_GUEST], ["user", "alice"]],
    want: [...GUEST_NAMED, "send alice", "show message: alice"],
  },
  {
    name: "--password answers the server's password prompt, then --name is taken",
    flag: "alice",
    password: "s3cret",
    steps: [["server", MODE_PASSWORD], ["server", ASK_PASSWORD], ["server", ASK_NAME]],
    want: ["send /proto json", "send /pass s3cret", "send /nick alice"],
  },
  {
    name: "without --password the user types it hidden, then a name",
    steps: [
      ["server", MODE_PASSWORD],
      ["server", ASK_PASSWORD],
      ["user", "s3cret"],
      ["server", ASK_NAME],
      ["user", "alice"],
    ],
    want: [
      "send /proto json",
      "ask hidden password:",
      "send /pass s3cret",
      "ask choose a name:",
      "send /nick alice",
    ],
  },
  {
    name: "a wrong --password is not sent again: the user is asked",
    password: "wrong",
    steps: [
      ["server", MODE_PASSWORD],
      ["server", ASK_PASSWORD],
      ["server", WRONG],
      ["server", ASK_PASSWORD],
      ["user", "right"],
    ],
    want: [
      "send /proto json",
      "send /pass wrong",
      "show error: wrong password; try again",
      "ask hidden password:",
      "send /pass right",
    ],
  },
  {
    name: "input that ends while a password is wanted exits 1 with the reason",
    password: "wrong",
    steps: [
      ["server", MODE_PASSWORD],
      ["server", ASK_PASSWORD],
      ["server", WRONG],
      ["server", ASK_PASSWORD],
      ["end"],
    ],
    want: [
      "send /proto json",
      "send /pass wrong",
      "show error: wrong password; try again",
      "ask hidden password:",
      "send /quit",
      "exit 1: wrong password; try again",
    ],
  },
  {
    name: "a registered name asks for its password, sent with /pass",
    joined: true,
    steps: [
      ["user", "/nick bob"],
      ["server", {
        type: "error",
        ts: 0,
        code: "name-registered",
        text: "bob is registered: give its password",
      }],
      ["server", {
        type: "prompt",
        ts: 0,
        for: "password",
        about: "name",
        name: "bob",
        text: "password for bob:",
      }],
      ["user", "bobpw"],
      ["server", { type: "named", ts: 0, name: "bob", previous: "alice", auto: false }],
      ["user", "hello"],
    ],
    want: [
      "send /nick bob",
      "show error: bob is registered: give its password",
      "ask hidden password for bob:",
      "send /pass bobpw",
      "show named: bob",
      "named bob",
      "send hello",
      "show message: hello",
    ],
  },
  {
    name: "asks for a name after the switch to JSON, showing only the welcome line",
    steps: [["server", WELCOME], ["server", "choose a name:"], ["server", MODE]],
    want: ["send /proto json", `show system: ${WELCOME}`, "ask choose a name:"],
  },
  {
    name: "takes --name at once and asks for the names online, without showing them",
    flag: "alice",
    steps: [["server", WELCOME], ["server", MODE], ["server", NAMED_ALICE], ["server", USERS]],
    want: [
      "send /proto json",
      `show system: ${WELCOME}`,
      "send /nick alice",
      "show named: alice",
      "named alice",
      "send /users *",
    ],
  },
  {
    name: "a taken name shows the server's reason and asks again",
    steps: [
      ["server", MODE],
      ["user", "bob"],
      ["server", { type: "error", ts: 0, code: "name-taken", text: "the name bob is taken" }],
      ["server", { type: "prompt", ts: 0, for: "name", text: "choose a name:" }],
      ["user", "alice"],
    ],
    want: [
      "send /proto json",
      "ask choose a name:",
      "send /nick bob",
      "show error: the name bob is taken",
      "ask choose a name:",
      "send /nick alice",
    ],
  },
  {
    name: "lines typed while a name is being checked wait for the answer",
    steps: [
      ["server", MODE],
      ["user", "bob"],
      ["user", "alice"],
      ["user", "hello"],
      ["server", { type: "error", ts: 0, code: "name-taken", text: "taken" }],
      ["server", { type: "prompt", ts: 0, for: "name", text: "choose a name:" }],
      ["server", NAMED_ALICE],
    ],
    want: [
      "send /proto json",
      "ask choose a name:",
      "send /nick bob",
      "show error: taken",
      "ask choose a name:",
      "send /nick alice",
      "show named: alice",
      "named alice",
      "send /users *",
      "send hello",
      "show message: hello",
    ],
  },
  {
    name: "a refused --name with no input left exits 1 with the reason",
    flag: "bob",
    steps: [
      ["server", MODE],
      ["end"],
      ["server", { type: "error", ts: 0, code: "name-taken", text: "the name bob is taken" }],
      ["server", { type: "prompt", ts: 0, for: "name", text: "choose a name:" }],
    ],
    want: [
      "send /proto json",
      "send /nick bob",
      "show error: the name bob is taken",
      "ask choose a name:",
      "send /quit",
      "exit 1: the name bob is taken",
    ],
  },
  {
    name: "a name with spaces is refused locally",
    steps: [["server", MODE], ["user", "a b"]],
    want: [
      "send /proto json",
      "ask choose a name:",
      "show error: invalid name: a name cannot contain spaces",
      "ask choose a name:",
    ],
  },
  {
    name: "before a name, /help is local and chat commands are refused locally",
    steps: [["server", MODE], ["user", "/help"], ["user", "/users"], ["user", "/nick alice"]],
    want: [
      "send /proto json",
      "ask choose a name:",
      `show help: ${helpLines().length} lines`,
      "show error: choose a name first (type a name, or /nick NAME)",
      "send /nick alice",
    ],
  },
  {
    name: "an --auto-name server's name is shown, and --name then renames",
    flag: "alice",
    steps: [["server", { ...MODE, name: "guest-1" }]],
    want: [
      "send /proto json",
      "show named: guest-1",
      "named guest-1",
      "send /users *",
      "send /nick alice",
    ],
  },
  {
    name: "a plain line is sent and shown locally as your own",
    joined: true,
    steps: [["user", "hello all"]],
    want: ["send hello all", "show message: hello all"],
  },
  {
    name: "a usage error is shown without a round trip",
    joined: true,
    steps: [["user", "/pm"], ["user", "/gm"], ["user", "/nick a b c"]],
    want: [
      "show error: usage: /pm USER|#ROOM [TEXT]",
      "show error: usage: /groupmessage USER1, USER2, ... [TEXT]",
      "show error: usage: /changeusername NAME [PASSWORD]",
    ],
  },
  {
    name: "an unknown command is shown without a round trip",
    joined: true,
    steps: [["user", "/frobnicate"]],
    want: ["show error: unknown command /frobnicate (try /help)"],
  },
  {
    name: "/help and /help TOPIC are answered locally",
    joined: true,
    steps: [["user", "/help"], ["user", "/help pm"]],
    want: [`show help: ${helpLines().length} lines`, `show help: ${helpLines("pm").length} lines`],
  },
  {
    name: "/proto is refused: the client needs JSON",
    joined: true,
    steps: [["user", "/proto text"]],
    want: ["show error: the client keeps the connection in JSON mode; /proto is not available"],
  },
  {
    name: "a private message is sent and shown when the server confirms it",
    joined: true,
    steps: [
      ["user", "/pm bob psst"],
      ["server", { type: "sent", ts: 0, kind: "private", to: ["bob"], text: "psst" }],
    ],
    want: ["send /pm bob psst", "show sent: psst"],
  },
  {
    name:
      "NAME:TEXT to someone online is private; NAME: TEXT is public; offline NAME:TEXT an error",
    joined: true,
    steps: [["user", "bob:psst"], ["user", "bob: hi"], ["user", "nobody:hi"]],
    want: [
      "send bob:psst",
      "send bob: hi",
      "show message: bob: hi",
      "show error: no user named nobody is online (NAME:TEXT is private); // at the start sends the line to everyone as it is",
    ],
  },
  {
    name: "/pm without text: the next line goes to that user, not to everyone",
    joined: true,
    steps: [["user", "/pm bob"], ["user", "secret"], ["user", "public"]],
    want: ["send /pm bob", "send secret", "send public", "show message: public"],
  },
  {
    name: "/sendall without text: the next line is public and shown",
    joined: true,
    steps: [["user", "/sendall"], ["user", "to all"]],
    want: ["send /sendall", "send to all", "show message: to all"],
  },
  {
    name: "/sendall TEXT is shown as your own",
    joined: true,
    steps: [["user", "/bc hi all"]],
    want: ["send /bc hi all", "show message: hi all"],
  },
  {
    name: "//text sends a line starting with a slash",
    joined: true,
    steps: [["user", "//shrug"]],
    want: ["send //shrug", "show message: /shrug"],
  },
  {
    name: "empty lines are not sent",
    joined: true,
    steps: [["user", "   "]],
    want: [],
  },
  {
    name: "/users asked by the user is shown",
    joined: true,
    steps: [["user", "/who"], ["server", USERS]],
    want: ["send /who", "show users: bob,alice"],
  },
  {
    name: "incoming events are shown",
    joined: true,
    steps: [
      ["server", { type: "message", ts: 0, from: "bob", room: "#lobby", text: "hi" }],
      ["server", { type: "private", ts: 0, from: "bob", to: "alice", text: "psst" }],
      ["server", { type: "announce", ts: 0, from: "server", text: "news" }],
    ],
    want: ["show message: hi", "show private: psst", "show announce: news"],
  },
  {
    name: "/quit, /disconnect, /exit and a bare exit each send /quit once",
    joined: true,
    steps: [["user", "exit"], ["user", "/quit"], ["server", {
      type: "bye",
      ts: 0,
      reason: "goodbye",
    }], ["closed", "x"]],
    want: ["send /quit", "show bye: goodbye", "exit 0"],
  },
  {
    name: "/exit closes cleanly even if the server closes without bye",
    joined: true,
    steps: [["user", "/exit"], ["closed", "connection closed by the server"]],
    want: ["send /quit", "exit 0"],
  },
  {
    name: "/disconnect closes cleanly",
    joined: true,
    steps: [["user", "/disconnect"]],
    want: ["send /quit"],
  },
  {
    name: "end of input quits after the lines before it",
    joined: true,
    steps: [["user", "one"], ["end"]],
    want: ["send one", "show message: one", "send /quit"],
  },
  {
    name: "Ctrl+C quits at once",
    joined: true,
    steps: [["quit"], ["quit"]],
    want: ["send /quit"],
  },
  {
    name: "kicked: the reason is shown and the close is clean",
    joined: true,
    steps: [["server", { type: "bye", ts: 0, reason: "kicked by the server: spam" }], [
      "closed",
      "connection closed by the server",
    ]],
    want: ["show bye: kicked by the server: spam", "exit 0"],
  },
  {
    name: "a connection lost without bye exits 1 with the reason",
    joined: true,
    steps: [["closed", "connection lost"]],
    want: ["exit 1: connection lost"],
  },
  {
    name: "input after bye is ignored",
    joined: true,
    steps: [["server", { type: "bye", ts: 0, reason: "server shutting down" }], ["user", "hi"]],
    want: ["show bye: server shutting down"],
  },
  {
    name: "text lines after the switch are shown as notices",
    joined: true,
    steps: [["server", "something odd"]],
    want: ["show system: something odd"],
  },
];

/** You (alice) are now in `room`: joined, or `switched` to it. */
function room(name: string, switched = false): Step {
  const e: ServerEvent = { type: "room", ts: 0, room: name, names: ["alice"] };
  return ["server", switched ? { ...e, switched: true } : e];
}

/** `name` parted `room` (alice: you did). */
function leave(name: string, room: string): Step {
  return ["server", { type: "leave", ts: 0, name, room, count: 2, members: 1 }];
}

function said(from: string, room: string, text: string, history?: true): Step {
  return ["server", { type: "message", ts: 1, from, room, text, ...(history ? { history } : {}) }];
}

const NO_OTHER_ROOM = "show system: no other room to switch to (/join #ROOM)";

/** Several rooms at once: the list, the active one, marks and Ctrl+X. */
const ROOM_CASES: Case[] = [
  {
    name: "after naming the client is in #lobby, active",
    joined: true,
    steps: [],
    want: [],
    rooms: ["#lobby"],
    active: "#lobby",
  },
  {
    name: "a room event adds the room and makes it active; the prompt follows",
    joined: true,
    steps: [room("#dev")],
    want: ["show room: #dev", "room #dev"],
    rooms: ["#lobby", "#dev"],
    active: "#dev",
  },
  {
    name: "a switch to a room you are in keeps the order joined",
    joined: true,
    steps: [room("#dev"), room("#lobby", true)],
    want: ["show room: #dev", "room #dev", "show room: #lobby", "room #lobby"],
    rooms: ["#lobby", "#dev"],
    active: "#lobby",
  },
  {
    name: "your own leave of the active room leaves none active until the room event",
    joined: true,
    steps: [room("#dev"), leave("alice", "#dev"), room("#lobby", true)],
    want: [
      "show room: #dev",
      "room #dev",
      "show leave: alice #dev",
      "room (none)",
      "show room: #lobby",
      "room #lobby",
    ],
    rooms: ["#lobby"],
    active: "#lobby",
  },
  {
    name: "parting the last room: in none; plain text is sent, not shown as said",
    joined: true,
    steps: [
      leave("alice", "#lobby"),
      ["user", "anyone?"],
      ["server", { type: "error", ts: 0, code: "not-in-room", text: "you are in no room" }],
    ],
    want: [
      "show leave: alice #lobby",
      "room (none)",
      "send anyone?",
      "show error: you are in no room",
    ],
    rooms: [],
    active: null,
  },
  {
    name: "your own leave of another room is marked with it; the active one stays",
    joined: true,
    steps: [room("#dev"), leave("alice", "#lobby")],
    want: ["show room: #dev", "room #dev", "show [#lobby] leave: alice #lobby"],
    rooms: ["#dev"],
    active: "#dev",
  },
  {
    name: "someone else's leave changes none of your rooms",
    joined: true,
    steps: [leave("bob", "#lobby")],
    want: ["show leave: bob #lobby"],
    rooms: ["#lobby"],
    active: "#lobby",
  },
  {
    name: "lines from a room that is not the active one are marked with it",
    joined: true,
    steps: [
      room("#dev"),
      said("bob", "#dev", "replayed", true),
      ["server", { type: "history-end", ts: 0, room: "#dev", count: 1, history: true }],
      said("bob", "#lobby", "over here"),
      ["server", { type: "action", ts: 0, from: "bob", room: "#lobby", text: "waves" }],
      ["server", {
        type: "join",
        ts: 0,
        name: "carol",
        room: "#lobby",
        count: 3,
        members: 3,
        moved: true,
      }],
      leave("bob", "#lobby"),
      ["server", { type: "topic", ts: 0, room: "#lobby", topic: "hi", by: "bob", changed: true }],
      said("bob", "#dev", "in dev"),
      ["server", { type: "private", ts: 0, from: "bob", to: "alice", text: "psst" }],
      ["server", { type: "quit", ts: 0, name: "bob", count: 2 }],
    ],
    want: [
      "show room: #dev",
      "room #dev",
      "show message: replayed",
      "show history-end: #dev",
      "show [#lobby] message: over here",
      "show [#lobby] action: waves",
      "show [#lobby] join: carol #lobby",
      "show [#lobby] leave: bob #lobby",
      "show [#lobby] topic: ",
      "show message: in dev",
      "show private: psst",
      "show quit: bob",
    ],
  },
  {
    name: "your own lines show the room they went to",
    joined: true,
    steps: [
      room("#dev"),
      ["user", "in dev"],
      ["user", "/me codes"],
      ["user", "/msg #lobby hey"],
      ["user", "/msg #LOBBY any case"],
      ["user", "/msg #lobby"],
      ["user", "next line"],
      ["user", "/sendall"],
      ["user", "to dev"],
      ["user", "/msg #music not mine"],
      ["user", "/msg #music"],
      ["user", "not mine either"],
      ["user", "/msg bob psst"],
    ],
    want: [
      "show room: #dev",
      "room #dev",
      "send in dev",
      "show message: in dev",
      "send /me codes",
      "show action: codes",
      "send /msg #lobby hey",
      "show [#lobby] message: hey",
      "send /msg #LOBBY any case",
      "show [#lobby] message: any case",
      "send /msg #lobby",
      "send next line",
      "show [#lobby] message: next line",
      "send /sendall",
      "send to dev",
      "show message: to dev",
      "send /msg #music not mine",
      "send /msg #music",
      "send not mine either",
      "send /msg bob psst",
    ],
  },
  {
    name: "Ctrl+X joins the room after the active one, cycling in the order joined",
    joined: true,
    steps: [
      room("#dev"),
      room("#music"),
      ["ctrl-x"],
      room("#lobby", true),
      ["ctrl-x"],
      room("#dev", true),
      ["ctrl-x"],
    ],
    want: [
      "show room: #dev",
      "room #dev",
      "show room: #music",
      "room #music",
      "send /join #lobby",
      "show room: #lobby",
      "room #lobby",
      "send /join #dev",
      "show room: #dev",
      "room #dev",
      "send /join #music",
    ],
    active: "#dev",
  },
  {
    name: "/join of a new room and /part count as room changes; /join of one you are in not",
    joined: true,
    steps: [["user", "/join dev"], room("#dev"), ["user", "/j #LOBBY"], ["user", "/part"]],
    want: [
      "send /join dev (counts as 5)",
      "show room: #dev",
      "room #dev",
      "send /j #LOBBY",
      "send /part (counts as 5)",
    ],
  },
  {
    name: "Ctrl+X in one room or none sends nothing and says so",
    joined: true,
    steps: [["ctrl-x"], leave("alice", "#lobby"), ["ctrl-x"]],
    want: [NO_OTHER_ROOM, "show leave: alice #lobby", "room (none)", NO_OTHER_ROOM],
  },
  {
    name: "Ctrl+X before a name does nothing",
    steps: [["server", MODE], ["ctrl-x"]],
    want: ["send /proto json", "ask choose a name:"],
  },
];

/** Connection lost, then a new one on which the server names alice again. */
const RECONNECTED: Step[] = [
  ["closed", "connection lost"],
  ["start"],
  ["server", MODE],
  ["server", NAMED_ALICE],
];
const RECONNECTED_ACTIONS = [
  "show system: connection lost; reconnecting in 1 s (attempt 1)",
  "reconnect in 1000",
  "send /proto json",
  "send /nick alice",
  "show system: reconnected as alice",
  "named alice",
  "send /users *",
];

/** After a reconnect: back in every room, the active one active again. */
const REJOIN_CASES: Case[] = [
  {
    name: "every room is joined again, the active one last; the lobby's replay is marked",
    joined: true,
    reconnect: true,
    steps: [
      room("#dev"),
      room("#music"),
      room("#dev", true),
      ...RECONNECTED,
      said("bob", "#lobby", "missed in the lobby", true),
      room("#music"),
      room("#dev"),
    ],
    want: [
      "show room: #dev",
      "room #dev",
      "show room: #music",
      "room #music",
      "show room: #dev",
      "room #dev",
      ...RECONNECTED_ACTIONS,
      "send /join #music (counts as 5)",
      "send /join #dev (counts as 5)",
      "show [#lobby] message: missed in the lobby",
      "show room: #music",
      "room #music",
      "show room: #dev",
      "room #dev",
    ],
    rooms: ["#lobby", "#dev", "#music"],
    active: "#dev",
  },
  {
    name: "#lobby, active among others, is made active again by joining it last",
    joined: true,
    reconnect: true,
    steps: [room("#dev"), room("#lobby", true), ...RECONNECTED],
    want: [
      "show room: #dev",
      "room #dev",
      "show room: #lobby",
      "room #lobby",
      ...RECONNECTED_ACTIONS,
      "send /join #dev (counts as 5)",
      "send /join #lobby",
    ],
  },
  {
    name: "a parted #lobby is parted again; what it says meanwhile is not shown",
    joined: true,
    reconnect: true,
    steps: [
      room("#dev"),
      leave("alice", "#lobby"),
      ...RECONNECTED,
      ["server", { type: "topic", ts: 0, room: "#lobby", topic: "hi", by: "bob", changed: false }],
      said("bob", "#lobby", "lobby history", true),
      ["server", { type: "history-end", ts: 0, room: "#lobby", count: 1, history: true }],
      room("#dev"),
      leave("alice", "#lobby"),
      said("bob", "#dev", "back in dev"),
    ],
    want: [
      "show room: #dev",
      "room #dev",
      "show [#lobby] leave: alice #lobby",
      ...RECONNECTED_ACTIONS,
      "send /join #dev (counts as 5)",
      "send /part #lobby (counts as 5)",
      "show room: #dev",
      "room #dev",
      "show message: back in dev",
    ],
    rooms: ["#dev"],
    active: "#dev",
  },
  {
    name: "in no room before: #lobby is parted again and nothing joined",
    joined: true,
    reconnect: true,
    steps: [leave("alice", "#lobby"), ...RECONNECTED, leave("alice", "#lobby")],
    want: [
      "show leave: alice #lobby",
      "room (none)",
      ...RECONNECTED_ACTIONS,
      "send /part #lobby (counts as 5)",
    ],
    rooms: [],
    active: null,
  },
  {
    name: "lines typed while away are shown in the room they will go to",
    joined: true,
    reconnect: true,
    steps: [
      room("#music"),
      room("#dev"),
      ["closed", "connection lost"],
      ["user", "typed while away"],
      ["user", "/msg #music and this"],
      ...RECONNECTED.slice(1),
    ],
    want: [
      "show room: #music",
      "room #music",
      "show room: #dev",
      "room #dev",
      ...RECONNECTED_ACTIONS,
      "send /join #music (counts as 5)",
      "send /join #dev (counts as 5)",
      "send typed while away",
      "show message: typed while away",
      "send /msg #music and this",
      "show [#music] message: and this",
    ],
  },
];

/** Runs one case: its steps (after joining, if it says so) give the actions it wants. */
function check(c: Case): void {
  const { core, actions } = run(c.joined ? [...JOINED, ...c.steps] : c.steps, {
    name: c.flag,
    password: c.password,
    piped: c.piped,
    reconnect: c.reconnect,
  });
  assertEquals(c.joined ? actions.slice(JOINED_ACTIONS.length) : actions, c.want);
  if (c.joined) assertEquals(actions.slice(0, JOINED_ACTIONS.length), JOINED_ACTIONS);
  if (c.rooms) assertEquals(core.rooms, c.rooms);
  if (c.active !== undefined) assertEquals(core.room, c.active ?? undefined);
}

Deno.test("ChatCore handles each situation", async (t) => {
  for (const c of CASES) {
    await t.step(c.name, () => check(c));
  }
});

Deno.test("ChatCore prompt states: hidden while the server asks for a password, chat when it says", async (t) => {
  for (const c of PROMPT_CASES) {
    await t.step(c.name, () => check(c));
  }
});

Deno.test("ChatCore rooms: the list, the active one, marks and Ctrl+X", async (t) => {
  for (const c of ROOM_CASES) {
    await t.step(c.name, () => check(c));
  }
});

Deno.test("ChatCore after a reconnect joins every room again, the active one last", async (t) => {
  for (const c of REJOIN_CASES) {
    await t.step(c.name, () => check(c));
  }
});

Deno.test("ChatCore.names follows users, join, quit and rename events", async (t) => {
  const cases: [string, Step[], string[]][] = [
    ["from /users", [], ["bob", "alice"]],
    ["a join adds", [["server", {
      type: "join",
      ts: 0,
      name: "carol",
      room: "#lobby",
      count: 3,
      members: 3,
    }]], [
      "bob",
      "alice",
      "carol",
    ]],
    ["a quit removes", [["server", { type: "quit", ts: 0, name: "bob", count: 1 }]], ["alice"]],
    ["someone leaving a room stays online", [["server", {
      type: "leave",
      ts: 0,
      name: "bob",
      room: "#lobby",
      count: 2,
      members: 1,
    }]], ["bob", "alice"]],
    ["a room's /users adds names without forgetting the others", [["server", {
      type: "users",
      ts: 0,
      room: "#dev",
      names: ["dana"],
      count: 1,
      online: 3,
    }]], ["bob", "alice", "dana"]],
    ["a rename replaces", [["server", { type: "rename", ts: 0, from: "bob", to: "rob" }]], [
      "alice",
      "rob",
    ]],
    ["your own rename replaces you", [["server", {
      type: "named",
      ts: 0,
      name: "ally",
      previous: "alice",
      auto: false,
    }]], ["bob", "ally"]],
  ];
  for (const [name, steps, want] of cases) {
    await t.step(name, () => {
      const { core } = run([...JOINED, ...steps]);
      assertEquals(core.names, want);
    });
  }
});

Deno.test("ChatCore.me follows your renames", () => {
  const { core, actions } = run([...JOINED, ["server", {
    type: "named",
    ts: 0,
    name: "ally",
    previous: "alice",
    auto: false,
  }]]);
  assertEquals(core.me, "ally");
  assertEquals(actions.slice(-2), ["show named: ally", "named ally"]);
});
