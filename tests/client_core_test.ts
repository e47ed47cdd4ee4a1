// Tests for lib/client/core.ts: the client's protocol state machine, fed server lines
// and user lines, with the actions it takes written as short strings.

import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { ChatCore, type ClientAction } from "../lib/client/core.ts";
import { helpLines } from "../lib/protocol/commands.ts";
import type { ServerEvent } from "../lib/protocol/events.ts";

type Step =
  | ["server", ServerEvent | string]
  | ["user", string]
  | ["end"]
  | ["quit"]
  | ["closed", string];

/** An action as a short string: `send /users`, `show error: text`, `exit 1: why`. */
function brief(a: ClientAction): string {
  switch (a.type) {
    case "send":
      return `send ${a.line}`;
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
        : "";
      return `show ${e.type}: ${detail}`;
    }
    case "ask-name":
      return `ask ${a.text}`;
    case "ask-password":
      return `ask hidden ${a.text}`;
    case "named":
      return `named ${a.name}`;
    case "room":
      return `room ${a.room}`;
    case "reconnect":
      return `reconnect in ${a.delayMs}`;
    case "exit":
      return `exit ${a.code}${a.error ? `: ${a.error}` : ""}`;
    case "pace":
      return `pace ${a.rate}/s after ${a.burst}`;
  }
}

function run(
  steps: Step[],
  name?: string,
  password?: string,
  piped?: boolean,
): { core: ChatCore; actions: string[] } {
  const core = new ChatCore({ name, password, piped, now: () => 0 });
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

/** Runs one case: its steps (after joining, if it says so) give the actions it wants. */
function check(c: Case): void {
  const { actions } = run(
    c.joined ? [...JOINED, ...c.steps] : c.steps,
    c.flag,
    c.password,
    c.piped,
  );
  assertEquals(c.joined ? actions.slice(JOINED_ACTIONS.length) : actions, c.want);
  if (c.joined) assertEquals(actions.slice(0, JOINED_ACTIONS.length), JOINED_ACTIONS);
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

Deno.test("ChatCore.names follows users, join, leave and rename events", async (t) => {
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
