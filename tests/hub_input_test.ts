// Input dispatch over plain data: the real prompt machine, flood control, rooms and delivery,
// with handlers, message routing and naming faked to record what they were asked; fake peers,
// no sockets. Each line goes in as a client's would.

import assert from "node:assert/strict";
import { COMMAND_NAMES } from "../lib/protocol/commands.ts";
import type { ServerEvent } from "../lib/protocol/events.ts";
import { Client, type Target, who } from "../lib/server/hub/client.ts";
import { Delivery } from "../lib/server/hub/delivery.ts";
import { Directory } from "../lib/server/hub/directory.ts";
import { Flood } from "../lib/server/hub/flood.ts";
import type { Handlers } from "../lib/server/hub/handlers.ts";
import { Input } from "../lib/server/hub/input.ts";
import { PromptMachine, remember } from "../lib/server/hub/prompts.ts";
import { Rooms } from "../lib/server/hub/rooms.ts";
import { DEFAULT_LIMITS, type Limits } from "../lib/server/limits.ts";
import { MemoryStore } from "../lib/server/store.ts";
import { JsonPeer } from "./hub_fakes.ts";

type Event = ServerEvent & { id?: string | number; code?: string; text?: string; for?: string };

class FakePeer extends JsonPeer<Event> {}

type Fake = Client & { peer: FakePeer };

/** No waiting between password guesses, so answers come at once and no timer is left. */
const LIMITS: Limits = { ...DEFAULT_LIMITS, authDelayMs: 0, authMaxDelayMs: 0 };

function setup(limits = LIMITS) {
  const names = new Directory();
  const store = new MemoryStore(limits.historyLines, limits);
  const rooms = new Rooms(store, limits, () => {}, () => {});
  const out = new Delivery(0, names.byKey);
  const did: string[] = [];
  const log: string[] = [];
  const disconnect = (_c: Client, reason?: string) => did.push(`disconnect ${reason}`);
  const flood = new Flood({ limits, out, log: () => {}, who, disconnect });
  const prompts = new PromptMachine({
    limits,
    out,
    password: "sesame",
    log: () => {},
    logError: () => {},
    who,
    reclaim: () => {},
    handle: (c, line) => input.handle(c, line),
    command: (c, cmd) => input.command(c, cmd),
    rename: (_c, name, password) => did.push(`rename ${name} ${password}`),
    back: () => did.push("back"),
    admitted: (c) => {
      c.prompt = { for: "name" };
      did.push("admitted");
    },
    disconnect,
    failed: (_c, _err, what) => did.push(`failed ${what}`),
  });
  // Each handler records its command, and the room a JSON request named.
  const handlers = Object.fromEntries(
    COMMAND_NAMES.map((name) => [
      name,
      (_c: Client, _cmd: unknown, room?: { name: string }) =>
        did.push(`/${name}${room ? ` in ${room.name}` : ""}`),
    ]),
  ) as unknown as Handlers;
  const to = (t: Target) =>
    t.kind === "private" ? t.to : t.kind === "group" ? t.to.join(",") : t.room?.name ?? "room";
  const input: Input = new Input({
    limits,
    names,
    rooms,
    out,
    flood,
    prompts,
    messages: { deliver: (_c, t, text) => did.push(`${t.kind} to ${to(t)}: ${text}`) },
    naming: { rename: (_c, name) => did.push(`name ${name}`) },
    handlers,
    log: (line) => log.push(line),
    who,
    commanded: (info) => did.push(`hook ${JSON.stringify(info.command)}`),
    failed: (_c, err, what) => did.push(`failed ${what}: ${err}`),
  });
  /** A client in JSON mode, named `name` (in #lobby) or, without one, at the name prompt. */
  const client = (name?: string): Fake => {
    const c = new Client(new FakePeer(), limits, 0) as Fake;
    c.mode = "json";
    if (name !== undefined) {
      c.name = name;
      c.prompt = { for: "ready" };
      names.add(c);
      rooms.enter(c, rooms.lobby);
    }
    return c;
  };
  /** Sends lines as `c`, past flood control; the commands' hook calls are left out of `did`. */
  const send = (c: Client, ...lines: string[]) => {
    for (const line of lines) input.line(c, line, 0);
    return did.filter((d) => !d.startsWith("hook "));
  };
  return { input, prompts, rooms, handlers, did, log, client, send };
}

/** What a client was sent: type, code, id and text, the ones it has. */
const said = (c: Fake) =>
  c.peer.events.map((e) =>
    [e.type, e.code, e.id === undefined ? undefined : `#${e.id}`, e.text].filter((x) =>
      x !== undefined
    ).join(" ")
  );

Deno.test("Input.line() answers a JSON request with its id", async (t) => {
  const cases: [string, string, string[], string[]][] = [
    ["a request nothing answered gets ok", '{"id": 7, "cmd": "users"}', ["/users"], ["ok #7"]],
    ["a string id", '{"id": "a", "cmd": "help"}', ["/help"], ["ok #a"]],
    [
      "a request that is not JSON is an error, without an id",
      "{nope",
      [],
      ["error bad-request bad request: not valid JSON"],
    ],
    [
      "an unknown cmd is an error with the id",
      '{"id": 8, "cmd": "fly"}',
      [],
      ['error unknown-command #8 unknown cmd "fly" (try "help")'],
    ],
    [
      "an operator command is refused with the id",
      '{"id": 9, "cmd": "kick", "user": "ben"}',
      [],
      ["error not-allowed #9 not allowed: /kick is for operators"],
    ],
    [
      "say in a room the client is not in",
      '{"id": 10, "cmd": "say", "room": "#dev", "text": "hi"}',
      [],
      ["error not-in-room #10 you are not in #dev; join it first"],
    ],
  ];
  for (const [what, line, did, sent] of cases) {
    await t.step(what, () => {
      const s = setup();
      const ann = s.client("ann");
      assert.deepEqual(s.send(ann, line), did);
      assert.deepEqual(said(ann), sent);
    });
  }
});

Deno.test("Input.line() runs a JSON say in a room the client is in, without switching", () => {
  const s = setup();
  const ann = s.client("ann");
  const dev = s.rooms.open("#dev")!;
  s.rooms.enter(ann, dev);
  s.rooms.use(ann, s.rooms.lobby, true);
  assert.deepEqual(s.send(ann, '{"id": 1, "cmd": "say", "room": "#DEV", "text": "hi"}'), [
    "/sendall in #dev",
  ]);
  assert.equal(ann.room, s.rooms.lobby);
  // A line starting with "{" is plain text in text mode.
  ann.mode = "text";
  assert.deepEqual(s.send(ann, '{"cmd": "users"}').at(-1), 'public to room: {"cmd": "users"}');
});

Deno.test("Input.line() gives a two-step command's target the next line", async (t) => {
  const cases: [string, string, string[], string[]][] = [
    ["a line is the message", "hello", ["private to ben: hello"], []],
    ["an empty line sends nothing", "", [], ["system nothing sent"]],
    ["a command runs instead, and the target is dropped", "/users", ["/users"], []],
  ];
  for (const [what, line, did, sent] of cases) {
    await t.step(what, () => {
      const s = setup();
      const ann = s.client("ann");
      ann.pending = { kind: "private", to: "ben" };
      assert.deepEqual(s.send(ann, line), did);
      assert.deepEqual(said(ann), sent);
      assert.equal(ann.pending, undefined);
      // The line after goes to the room again.
      assert.deepEqual(s.send(ann, "again").at(-1), "public to room: again");
    });
  }
});

Deno.test("Input.line() at a password prompt: the line is the password, never chat", () => {
  const s = setup();
  const c = s.client();
  c.prompt = { for: "password", about: "server" };
  assert.deepEqual(s.send(c, "hello everyone"), []);
  assert.deepEqual(said(c), ["error wrong-password wrong password; try again", "prompt password:"]);
  assert.deepEqual(s.send(c, "/me waves"), []);
  assert.equal(said(c).at(-1), "error no-password give the server password first (/pass PASSWORD)");
  assert.deepEqual(s.send(c, "sesame"), ["admitted"]);
  // The password is remembered: typed again as a name, it is refused.
  assert.deepEqual(s.send(c, "sesame"), ["admitted"]);
  assert.deepEqual(said(c).slice(-2), [
    "error looks-like-password that looks like a password; it was not sent",
    "prompt choose a name:",
  ]);
});

Deno.test("Input.line() at a password prompt: a JSON request gives it or is refused", () => {
  const s = setup();
  const c = s.client();
  c.prompt = { for: "password", about: "server" };
  assert.deepEqual(s.send(c, '{"id": 1, "cmd": "users"}'), []);
  assert.equal(
    said(c).at(-1),
    "error no-password #1 give the server password first (/pass PASSWORD)",
  );
  assert.deepEqual(s.send(c, '{"id": 2, "cmd": "help"}'), ["/help"]);
  assert.deepEqual(said(c).at(-1), "ok #2");
  assert.deepEqual(s.send(c, '{"id": 3, "cmd": "pass", "password": "sesame"}'), [
    "/help",
    "admitted",
  ]);
  assert.deepEqual(said(c).at(-1), "ok #3");
});

Deno.test("Input.line() before a name: a line is the name; most commands wait for one", () => {
  const s = setup();
  const c = s.client();
  assert.deepEqual(s.send(c, "ann"), ["name ann"]);
  assert.deepEqual(s.send(c, "/me waves"), ["name ann"]);
  assert.deepEqual(said(c), [
    "error no-name choose a name first (type a name, or /nick NAME)",
    "prompt choose a name:",
  ]);
  assert.deepEqual(s.send(c, "/help", "/nick ann"), ["name ann", "/help", "/changeusername"]);
});

Deno.test("Input.command() refuses an operator command to a non-operator", () => {
  const s = setup();
  const ann = s.client("ann");
  assert.deepEqual(s.send(ann, "/kick ben", "/ban ben"), []);
  assert.deepEqual(said(ann), [
    "error not-allowed not allowed: /kick is for operators",
    "error not-allowed not allowed: /ban is for operators",
  ]);
  ann.operator = true;
  assert.deepEqual(s.send(ann, "/kick ben"), ["/kick"]);
});

Deno.test("Input.command() logs each command and hides a password from the hook", () => {
  const s = setup();
  const ann = s.client("ann");
  s.send(ann, "/op hunter2", "/help");
  assert.deepEqual(s.log, ["command ann: /op", "command ann: /help"]);
  assert.deepEqual(s.did.filter((d) => d.startsWith("hook ")), [
    'hook {"name":"op","password":"(hidden)"}',
    'hook {"name":"help"}',
  ]);
});

Deno.test("Input.line() refuses a secret typed on the connection, as chat or as a request", () => {
  const s = setup();
  const ann = s.client("ann");
  remember(ann, "hunter2");
  ann.pending = { kind: "private", to: "ben" };
  assert.deepEqual(s.send(ann, "hunter2", '{"id": 4, "cmd": "say", "text": "hunter2"}'), []);
  assert.deepEqual(said(ann), [
    "error looks-like-password that looks like a password; it was not sent",
    "error looks-like-password #4 that looks like a password; it was not sent",
  ]);
  assert.equal(ann.pending, undefined);
});

Deno.test("Input.line() tells a typing mistake to the client: unknown command, usage", () => {
  const s = setup();
  const ann = s.client("ann");
  assert.deepEqual(s.send(ann, "/fly", "/kick", "", "hi"), ["public to room: hi"]);
  assert.deepEqual(said(ann).map((l) => l.split(" ").slice(0, 2).join(" ")), [
    "error unknown-command",
    "error usage",
  ]);
});

Deno.test("Input.handle() holds lines while a password is checked; a throw is told as failed", () => {
  const s = setup();
  const ann = s.client("ann");
  ann.held = [];
  assert.deepEqual(s.send(ann, "one", "/users"), []);
  assert.deepEqual(ann.held, ["one", "/users"]);
  s.prompts.release(ann);
  assert.deepEqual(s.send(ann), ["public to room: one", "/users"]);
  s.handlers.users = () => {
    throw new Error("boom");
  };
  assert.deepEqual(s.send(ann, "/users").at(-1), "failed that line: Error: boom");
});

Deno.test("Input.line() passes flood control first; a closing client is not heard", () => {
  const s = setup({ ...LIMITS, ratePerSecond: 1, burst: 2 });
  const ann = s.client("ann");
  for (const line of ["a", "b", "c"]) s.input.line(ann, line, 5000);
  assert.deepEqual(s.send(ann), ["public to room: a", "public to room: b"]);
  assert.match(said(ann)[0], /^error flood slow down: 1 line dropped/);
  const ben = s.client("ben");
  ben.closing = true;
  s.send(ben, "hi");
  s.input.overlong(ben, 0);
  assert.deepEqual(ben.peer.events, []);
});

Deno.test("Input.overlong() says the line was too long and discarded", () => {
  const s = setup();
  const ann = s.client("ann");
  s.input.overlong(ann, 0);
  assert.deepEqual(said(ann), [
    `error line-too-long line too long (limit ${LIMITS.maxLineBytes} bytes); it was discarded`,
  ]);
});
