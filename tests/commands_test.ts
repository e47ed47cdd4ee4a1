import assert from "node:assert/strict";
import {
  COMMAND_NAMES,
  COMMANDS,
  helpLines,
  type Input,
  lookupCommand,
  MAX_DURATION_MS,
  parseDuration,
  parseInput,
  unquote,
} from "../lib/protocol/commands.ts";

const online = new Set(["bob", "carol"]);
const isUser = (n: string) => online.has(n.toLowerCase());

const cmd = (c: object): Input => ({ kind: "command", command: c } as Input);

const CASES: [string, Input][] = [
  // help
  ["/help", cmd({ name: "help", topic: undefined })],
  ["/help pm", cmd({ name: "help", topic: "pm" })],
  ["/HELP /PM", cmd({ name: "help", topic: "PM" })],
  ["/cmd", cmd({ name: "help", topic: undefined })],
  // users
  ["/users", cmd({ name: "users", everyone: false })],
  ["/USERS", cmd({ name: "users", everyone: false })],
  ["/who", cmd({ name: "users", everyone: false })],
  ["/allusers", cmd({ name: "users", everyone: false })],
  ["/names", cmd({ name: "users", everyone: false })],
  ["who", cmd({ name: "users", everyone: false })],
  ["WHO", cmd({ name: "users", everyone: false })],
  ["server:who", cmd({ name: "users", everyone: false })],
  // private
  ["/pm bob hi there", cmd({ name: "pm", to: "bob", text: "hi there" })],
  ["/PM bob hi", cmd({ name: "pm", to: "bob", text: "hi" })],
  ['/dm bob "hello world"', cmd({ name: "pm", to: "bob", text: "hello world" })],
  ["/private john hi how r u", cmd({ name: "pm", to: "john", text: "hi how r u" })],
  ["/msg bob yo", cmd({ name: "pm", to: "bob", text: "yo" })],
  ["/pm bob", cmd({ name: "pm", to: "bob", text: undefined })],
  ["Bob:Hi Bob!", cmd({ name: "pm", to: "Bob", text: "Hi Bob!" })],
  ["bob: spaced", { kind: "text", text: "bob: spaced" }],
  ["bob:", cmd({ name: "pm", to: "bob", text: undefined })],
  ["zed:not online", {
    kind: "error",
    code: "unknown-user",
    message:
      "no user named zed is online (NAME:TEXT is private); // at the start sends the line to everyone as it is",
  }],
  ["note: bob is away", { kind: "text", text: "note: bob is away" }],
  ["12:30 works", { kind: "text", text: "12:30 works" }],
  ["http://example.com", { kind: "text", text: "http://example.com" }],
  // group
  [
    "/groupmessage bob, carol hello all",
    cmd({ name: "groupmessage", to: ["bob", "carol"], text: "hello all" }),
  ],
  ["/GM bob,carol hi", cmd({ name: "groupmessage", to: ["bob", "carol"], text: "hi" })],
  [
    "/gm bob , carol ,dave x",
    cmd({ name: "groupmessage", to: ["bob", "carol", "dave"], text: "x" }),
  ],
  ["/gm bob, carol", cmd({ name: "groupmessage", to: ["bob", "carol"], text: undefined })],
  ["/gm bob hi", cmd({ name: "groupmessage", to: ["bob"], text: "hi" })],
  // public
  ["/sendall hi all", cmd({ name: "sendall", text: "hi all" })],
  ["/SENDALL hi", cmd({ name: "sendall", text: "hi" })],
  ['/bc "hello everyone"', cmd({ name: "sendall", text: "hello everyone" })],
  ["/all hello everyone", cmd({ name: "sendall", text: "hello everyone" })],
  ["/broadcast x", cmd({ name: "sendall", text: "x" })],
  ["/sendall", cmd({ name: "sendall", text: undefined })],
  ["just a line", { kind: "text", text: "just a line" }],
  ["  padded  ", { kind: "text", text: "padded" }],
  ["//not a command", { kind: "text", text: "/not a command" }],
  // rename / naming
  ["/changeusername alice2", cmd({ name: "changeusername", nick: "alice2", password: undefined })],
  ["/CHANGEUSERNAME x", cmd({ name: "changeusername", nick: "x", password: undefined })],
  ["/nick al", cmd({ name: "changeusername", nick: "al", password: undefined })],
  ["/setname john", cmd({ name: "changeusername", nick: "john", password: undefined })],
  ["/rename z", cmd({ name: "changeusername", nick: "z", password: undefined })],
  ["server:register alice", cmd({ name: "changeusername", nick: "alice", password: undefined })],
  // disconnect
  ["/disconnect", cmd({ name: "disconnect", reason: undefined })],
  ["/DISCONNECT", cmd({ name: "disconnect", reason: undefined })],
  ["/quit", cmd({ name: "disconnect", reason: undefined })],
  ["/exit", cmd({ name: "disconnect", reason: undefined })],
  ["exit", cmd({ name: "disconnect", reason: undefined })],
  ["Exit", cmd({ name: "disconnect", reason: undefined })],
  ["server:exit", cmd({ name: "disconnect", reason: undefined })],
  ["/quit gone fishing", cmd({ name: "disconnect", reason: "gone fishing" })],
  ["/users *", cmd({ name: "users", everyone: true })],
  ["/who #dev", cmd({ name: "users", everyone: false, room: "#dev" })],
  ["/who dev", {
    kind: "error",
    message: "usage: /users [#ROOM|*]",
    usage: "/users [#ROOM|*]",
  }],
  // rooms and social commands
  ["/join #dev", cmd({ name: "join", room: "#dev" })],
  ["/JOIN dev", cmd({ name: "join", room: "#dev" })],
  ["/j #a", cmd({ name: "join", room: "#a" })],
  ["/join", { kind: "error", message: "usage: /join #ROOM", usage: "/join #ROOM" }],
  ["/leave", cmd({ name: "part", room: undefined, reason: undefined })],
  ["/part", cmd({ name: "part", room: undefined, reason: undefined })],
  ["/part #dev", cmd({ name: "part", room: "#dev", reason: undefined })],
  ["/part  #dev  see you  ", cmd({ name: "part", room: "#dev", reason: "see you" })],
  ["/part off to lunch", cmd({ name: "part", room: undefined, reason: "off to lunch" })],
  ["/rooms", cmd({ name: "rooms" })],
  ["/list", cmd({ name: "rooms" })],
  ["/topic", cmd({ name: "topic", text: undefined, remove: false })],
  ["/topic Rust and more", cmd({ name: "topic", text: "Rust and more", remove: false })],
  ["/topic -delete", cmd({ name: "topic", text: undefined, remove: true })],
  ["/purge", cmd({ name: "purge", room: undefined, what: "all" })],
  ["/purge #dev history", cmd({ name: "purge", room: "#dev", what: "history" })],
  ["/purge dev topic", cmd({ name: "purge", room: "#dev", what: "topic" })],
  ["/purge topic", cmd({ name: "purge", room: undefined, what: "topic" })],
  ["/me waves hello", cmd({ name: "me", text: "waves hello" })],
  ["/me", { kind: "error", message: "usage: /me ACTION", usage: "/me ACTION" }],
  ["/away", cmd({ name: "away", reason: undefined })],
  ["/afk lunch break", cmd({ name: "away", reason: "lunch break" })],
  ["/back", cmd({ name: "back" })],
  ["/whois bob", cmd({ name: "whois", user: "bob" })],
  ["/ignore", cmd({ name: "ignore", user: undefined })],
  ["/ignore bob", cmd({ name: "ignore", user: "bob" })],
  ["/unignore bob", cmd({ name: "unignore", user: "bob" })],
  ["/reply thanks!", cmd({ name: "reply", text: "thanks!" })],
  ['/r "quoted"', cmd({ name: "reply", text: "quoted" })],
  ["/reply", cmd({ name: "reply", text: undefined })],
  ["/motd", cmd({ name: "motd", text: undefined })],
  ["/motd Be nice today", cmd({ name: "motd", text: "Be nice today" })],
  // trust
  ["/pass s3cret", cmd({ name: "pass", password: "s3cret" })],
  ["/password s3cret", cmd({ name: "pass", password: "s3cret" })],
  ["/pass", { kind: "error", message: "usage: /pass PASSWORD", usage: "/pass PASSWORD" }],
  ["/op hunter2", cmd({ name: "op", password: "hunter2" })],
  ["/register pw", cmd({ name: "register", password: "pw" })],
  ["/unregister", cmd({ name: "unregister" })],
  ["/ban troll", cmd({ name: "ban", target: "troll", ms: undefined, reason: undefined })],
  ["/ban troll 10m", cmd({ name: "ban", target: "troll", ms: 600_000, reason: undefined })],
  [
    "/ban 10.0.0.9 2h spam bot",
    cmd({ name: "ban", target: "10.0.0.9", ms: 7_200_000, reason: "spam bot" }),
  ],
  [
    "/ban troll being rude",
    cmd({ name: "ban", target: "troll", ms: undefined, reason: "being rude" }),
  ],
  ["/unban troll", cmd({ name: "unban", target: "troll" })],
  ["/banned", cmd({ name: "banned" })],
  ["/mute bob 30s", cmd({ name: "mute", target: "bob", ms: 30_000, reason: undefined })],
  ["/unmute bob", cmd({ name: "unmute", target: "bob" })],
  // machine mode and operators
  ["/proto json", cmd({ name: "proto", mode: "json" })],
  ["/proto TEXT", cmd({ name: "proto", mode: "text" })],
  ["/kick bob", cmd({ name: "kick", user: "bob", reason: undefined })],
  ["/kick bob being rude", cmd({ name: "kick", user: "bob", reason: "being rude" })],
  // errors and nothing
  ["", { kind: "empty" }],
  ["   ", { kind: "empty" }],
  ["/bogus", { kind: "error", message: "unknown command /bogus (try /help)" }],
  ["/", { kind: "error", message: "a command name must follow / (try /help)" }],
  ["/pm", {
    kind: "error",
    message: "usage: /pm USER|#ROOM [TEXT]",
    usage: "/pm USER|#ROOM [TEXT]",
  }],
  ["/msg #dev hi all", cmd({ name: "pm", to: "#dev", text: "hi all" })],
  ["/nick alice s3cret", cmd({ name: "changeusername", nick: "alice", password: "s3cret" })],
  [
    "/nick three words here",
    {
      kind: "error",
      message: "usage: /changeusername NAME [PASSWORD]",
      usage: "/changeusername NAME [PASSWORD]",
    },
  ],
  ["/nick", {
    kind: "error",
    message: "usage: /changeusername NAME [PASSWORD]",
    usage: "/changeusername NAME [PASSWORD]",
  }],
  ["/proto xml", { kind: "error", message: "usage: /proto text|json", usage: "/proto text|json" }],
  ["/gm", {
    kind: "error",
    message: "usage: /groupmessage USER1, USER2, ... [TEXT]",
    usage: "/groupmessage USER1, USER2, ... [TEXT]",
  }],
  ["server:dance", { kind: "error", message: "server: takes who, exit or register NAME" }],
];

Deno.test("parseInput() maps every command, alias and seed syntax", async (t) => {
  for (const [line, want] of CASES) {
    await t.step(JSON.stringify(line), () => {
      assert.deepEqual(parseInput(line, { isUser }), want);
    });
  }
});

Deno.test("parseInput() treats USER:TEXT as chat when no online list is given", () => {
  assert.deepEqual(parseInput("bob:hi"), { kind: "text", text: "bob:hi" });
});

Deno.test("every alias in the table resolves to its command, in any case", () => {
  for (const name of COMMAND_NAMES) {
    for (const word of [name, ...COMMANDS[name].aliases]) {
      assert.equal(lookupCommand(word), name);
      assert.equal(lookupCommand(`/${word.toUpperCase()}`), name);
    }
  }
});

Deno.test("no alias is claimed by two commands", () => {
  const seen = new Map<string, string>();
  for (const name of COMMAND_NAMES) {
    for (const word of [name, ...COMMANDS[name].aliases]) {
      assert.ok(!seen.has(word), `${word} is used by ${seen.get(word)} and ${name}`);
      seen.set(word, name);
    }
  }
});

Deno.test("helpLines() lists every command's usage and no aliases", () => {
  const text = helpLines().join("\n");
  for (const name of COMMAND_NAMES) assert.ok(text.includes(COMMANDS[name].usage));
  assert.ok(!text.includes("/allusers"));
});

Deno.test("helpLines(topic) shows one command with its aliases", () => {
  assert.deepEqual(helpLines("dm"), [
    "/pm USER|#ROOM [TEXT]: send a private message, or speak in a room you",
    "  are in (no text: the next line)",
    "  also: /dm, /private, /msg, /tell, /whisper",
  ]);
  assert.deepEqual(helpLines("nope"), ["unknown command /nope (try /help)"]);
});

Deno.test("parseDuration() reads s, m, h and d", () => {
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("10M"), 600_000);
  assert.equal(parseDuration("2h"), 7_200_000);
  assert.equal(parseDuration("7d"), 604_800_000);
  assert.equal(parseDuration("10"), undefined);
  assert.equal(parseDuration("1w"), undefined);
  assert.equal(parseDuration("-5m"), undefined);
});

Deno.test("parseInput() refuses /ban and /mute durations out of range, naming the longest", async (t) => {
  const why = (word: string) =>
    `invalid duration "${word}": use a whole number and s, m, h or d, from 1s to 3650d (or none: for good)`;
  const cases: [string, string | { ms?: number; reason?: string }][] = [
    ["/ban x 999999999d", why("999999999d")],
    [
      "/ban x 9999999999999999999999999999999999999999d spam",
      why("9999999999999999999999999999999999999999d"),
    ],
    ["/mute x 3651d", why("3651d")],
    ["/ban x 0s", why("0s")],
    ["/ban x 1.5h", why("1.5h")],
    ["/ban x -5m", why("-5m")],
    ["/mute x 10 minutes", why("10")],
    ["/ban x 2w", why("2w")],
    ["/ban x 3650d", { ms: MAX_DURATION_MS, reason: undefined }],
    ["/ban x 1s", { ms: 1000, reason: undefined }],
    ["/ban x 2nd warning", { ms: undefined, reason: "2nd warning" }],
  ];
  for (const [line, want] of cases) {
    await t.step(line, () => {
      const input = parseInput(line);
      if (typeof want === "string") {
        assert.equal(input.kind, "error");
        assert.equal((input as { message: string }).message, want);
      } else {
        assert.equal(input.kind, "command");
        const { ms, reason } = (input as { command: { ms?: number; reason?: string } }).command;
        assert.deepEqual({ ms, reason }, want);
      }
    });
  }
});

Deno.test("unquote() removes one pair of surrounding quotes only", () => {
  assert.equal(unquote('"hi"'), "hi");
  assert.equal(unquote('"a" and "b"'), 'a" and "b');
  assert.equal(unquote('"'), '"');
  assert.equal(unquote("plain"), "plain");
});
