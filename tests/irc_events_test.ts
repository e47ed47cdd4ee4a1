// The IRC door's events part over plain data: the hub's JSON events in, IRC lines out, read
// in the context of the request they answer. No hub, no socket (tests/irc_fakes.ts).

import assert from "node:assert/strict";
import type { ServerEvent } from "../lib/protocol/events.ts";
import { IRC_HELD_EVENTS } from "../lib/server/limits.ts";
import { Events, type HubEvent } from "../lib/server/irc/events.ts";
import type { Context } from "../lib/server/irc/requests.ts";
import { IrcIdentities } from "../lib/server/irc/state.ts";
import { type FakeDoor, fakeDoor, lastId, requested } from "./irc_fakes.ts";

const TS = Date.UTC(2026, 10, 30, 9, 5, 0);

function setup(nick?: string) {
  const door = fakeDoor(nick);
  const identities = new IrcIdentities();
  const calls: string[] = [];
  const events = new Events({
    ...door,
    identities,
    named: () => calls.push("named"),
    sasl: (event, context) => calls.push(`sasl ${event.type} ${context.kind}`),
  });
  return { door, events, identities, calls };
}

/** Feeds `event` as an answer to a request made in `context`; returns the lines written. */
function answer(door: FakeDoor, events: Events, event: HubEvent, context?: Context): string[] {
  if (context) {
    door.requests.send({ cmd: "test" }, context);
    event = { ...event, id: lastId(door) };
    door.sent.length = 0;
  }
  events.event(event);
  return door.lines.splice(0);
}

Deno.test("Events.event() turns chat and presence into IRC lines", async (t) => {
  const cases: [string, ServerEvent, string[]][] = [
    ["message", { type: "message", ts: TS, from: "bob", room: "#lobby", text: "hi" }, [
      ":bob!bob@linechat PRIVMSG #lobby :hi",
    ]],
    ["action", { type: "action", ts: TS, from: "bob", room: "#dev", text: "waves" }, [
      ":bob!bob@linechat PRIVMSG #dev :\x01ACTION waves\x01",
    ]],
    ["history without server-time", {
      type: "message",
      ts: TS,
      from: "bob",
      room: "#lobby",
      text: "old",
      history: true,
    }, [":bob!bob@linechat PRIVMSG #lobby :[09:05] old"]],
    ["private", { type: "private", ts: TS, from: "bob", to: "alice", text: "psst" }, [
      ":bob!bob@linechat PRIVMSG alice :psst",
    ]],
    ["group", { type: "group", ts: TS, from: "bob", to: ["alice", "carol"], text: "yo" }, [
      ":bob!bob@linechat PRIVMSG alice :[group to alice, carol] yo",
    ]],
    ["join", { type: "join", ts: TS, name: "bob", room: "#dev", count: 2, members: 2 }, [
      ":bob!bob@linechat JOIN #dev",
    ]],
    ["leave with a reason", {
      type: "leave",
      ts: TS,
      name: "bob",
      room: "#dev",
      count: 2,
      members: 1,
      reason: "bye all",
    }, [":bob!bob@linechat PART #dev :bye all"]],
    ["quit", { type: "quit", ts: TS, name: "bob", count: 1 }, [":bob!bob@linechat QUIT :Quit"]],
    ["rename", { type: "rename", ts: TS, from: "bob", to: "rob" }, [
      ":bob!bob@linechat NICK rob",
    ]],
    ["announce", { type: "announce", ts: TS, from: "server", text: "restart at 5" }, [
      ":srv NOTICE alice :[server] restart at 5",
    ]],
    ["topic changed", {
      type: "topic",
      ts: TS,
      room: "#dev",
      topic: "new",
      by: "bob",
      changed: true,
    }, [":bob!bob@linechat TOPIC #dev :new"]],
    ["help", { type: "help", ts: TS, lines: ["/join ROOM", "/part"] }, [
      ":srv NOTICE alice :/join ROOM",
      ":srv NOTICE alice :/part",
    ]],
    ["motd", { type: "motd", ts: TS, lines: ["be nice"] }, [
      ":srv 375 alice :- srv Message of the day -",
      ":srv 372 alice :- be nice",
      ":srv 376 alice :End of /MOTD command.",
    ]],
    ["bye", { type: "bye", ts: TS, reason: "kicked" }, ["ERROR :Closing link: kicked"]],
    ["history-end", { type: "history-end", ts: TS, room: "#a", count: 1, history: true }, []],
  ];
  for (const [name, event, want] of cases) {
    await t.step(name, () => {
      const { door, events } = setup("alice");
      assert.deepEqual(answer(door, events, event), want);
    });
  }
});

Deno.test("Events.event() tags lines with their time once server-time is asked for", () => {
  const { door, events } = setup("alice");
  door.state.caps.add("server-time");
  const event: ServerEvent = {
    type: "message",
    ts: TS,
    from: "bob",
    room: "#lobby",
    text: "old",
    history: true,
  };
  assert.deepEqual(answer(door, events, event), [
    "@time=2026-11-30T09:05:00.000Z :bob!bob@linechat PRIVMSG #lobby :old",
  ]);
});

Deno.test("Events.event() echoes the client's own message only with echo-message", () => {
  const { door, events } = setup("alice");
  const say: Context = { kind: "say", target: "#dev", text: "hi", action: false, notice: false };
  assert.deepEqual(answer(door, events, { type: "ok", ts: TS }, say), []);
  door.state.caps.add("echo-message");
  assert.deepEqual(answer(door, events, { type: "ok", ts: TS }, say), [
    ":alice!alice@linechat PRIVMSG #dev :hi",
  ]);
  const pm: Context = { kind: "say", target: "bob", text: "waves", action: true, notice: false };
  const sent: ServerEvent = { type: "sent", ts: TS, kind: "private", to: ["bob"], text: "x" };
  assert.deepEqual(answer(door, events, sent, pm), [
    ":alice!alice@linechat PRIVMSG bob :\x01ACTION waves\x01",
  ]);
});

Deno.test("Events.event() keeps the client's channels from room and leave events", () => {
  const { door, events } = setup("alice");
  const room: ServerEvent = {
    type: "room",
    ts: TS,
    room: "#dev",
    names: ["alice", "bob"],
    topic: "tea",
  };
  assert.deepEqual(answer(door, events, room), [
    ":alice!alice@linechat JOIN #dev",
    ":srv 332 alice #dev :tea",
    ":srv 353 alice = #dev :alice bob",
    ":srv 366 alice #dev :End of /NAMES list",
  ]);
  assert.deepEqual([...door.state.channels], ["#dev"]);
  assert.deepEqual(answer(door, events, { ...room, switched: true }), []);
  const leave: ServerEvent = {
    type: "leave",
    ts: TS,
    name: "alice",
    room: "#dev",
    count: 1,
    members: 1,
  };
  assert.deepEqual(answer(door, events, leave), [":alice!alice@linechat PART #dev"]);
  assert.equal(door.state.channels.size, 0);
});

Deno.test("Events.event() answers users as NAMES, WHO or TOPIC's 442 by its request", async (t) => {
  const users: ServerEvent = {
    type: "users",
    ts: TS,
    room: "#dev",
    names: ["alice", "bob", "carol"],
    count: 3,
    online: 3,
    operators: ["bob"],
    away: ["carol"],
  };
  await t.step("names", () => {
    const { door, events } = setup("alice");
    assert.deepEqual(answer(door, events, users, { kind: "names", target: "#dev" }), [
      ":srv 353 alice = #dev :alice @bob carol",
      ":srv 366 alice #dev :End of /NAMES list",
    ]);
  });
  await t.step("names with userhost-in-names", () => {
    const { door, events } = setup("alice");
    door.state.caps.add("userhost-in-names");
    assert.deepEqual(
      answer(door, events, users, { kind: "names", target: "#dev" })[0],
      ":srv 353 alice = #dev :alice!alice@linechat @bob!bob@linechat carol!carol@linechat",
    );
  });
  await t.step("who, with USER details where known", () => {
    const { door, events, identities } = setup("alice");
    identities.set("Alice", { user: "al", real: "Alice A" });
    assert.deepEqual(answer(door, events, users, { kind: "who", target: "#dev" }), [
      ":srv 352 alice #dev al linechat srv alice H :0 Alice A",
      ":srv 352 alice #dev bob linechat srv bob H*@ :0 bob",
      ":srv 352 alice #dev carol linechat srv carol G :0 carol",
      ":srv 315 alice #dev :End of WHO list",
    ]);
  });
  await t.step("who of a mask", () => {
    const { door, events } = setup("alice");
    const context: Context = { kind: "who", target: "c*", match: /^c.*$/i };
    assert.deepEqual(answer(door, events, { ...users, room: "*" }, context), [
      ":srv 352 alice * carol linechat srv carol G :0 carol",
      ":srv 315 alice c* :End of WHO list",
    ]);
  });
  await t.step("topic of a room the client is not in", () => {
    const { door, events } = setup("alice");
    assert.deepEqual(answer(door, events, users, { kind: "exists", room: "#dev" }), [
      ":srv 442 alice #dev :You're not on that channel",
    ]);
  });
});

Deno.test("Events.event() answers rooms as LIST, of the rooms asked for", () => {
  const { door, events } = setup("alice");
  const rooms: ServerEvent = {
    type: "rooms",
    ts: TS,
    rooms: [{ name: "#lobby", members: 3 }, { name: "#Dev", members: 1, topic: "tea" }],
  };
  assert.deepEqual(answer(door, events, rooms, { kind: "list", only: new Set(["#dev"]) }), [
    ":srv 321 alice Channel :Users  Name",
    ":srv 322 alice #Dev 1 :tea",
    ":srv 323 alice :End of /LIST",
  ]);
});

Deno.test("Events.event() answers a topic asked for with 332, or 331 unless joining", () => {
  const { door, events } = setup("alice");
  const none: ServerEvent = { type: "topic", ts: TS, room: "#dev", changed: false };
  assert.deepEqual(answer(door, events, none, { kind: "topic", room: "#dev", query: true }), [
    ":srv 331 alice #dev :No topic is set",
  ]);
  const joining: Context = { kind: "topic", room: "#dev", query: true, joining: true };
  assert.deepEqual(answer(door, events, none, joining), []);
  assert.deepEqual(answer(door, events, { ...none, topic: "tea" }, joining), [
    ":srv 332 alice #dev :tea",
  ]);
});

Deno.test("Events.event() answers whois with 311-318", () => {
  const { door, events } = setup("alice");
  const whois: ServerEvent = {
    type: "whois",
    ts: TS,
    name: "bob",
    rooms: ["#lobby", "#dev"],
    since: 5000,
    idleSeconds: 7,
    away: "lunch",
  };
  assert.deepEqual(answer(door, events, whois, { kind: "whois", target: "bob" }), [
    ":srv 311 alice bob bob linechat * :bob",
    ":srv 319 alice bob :#lobby #dev",
    ":srv 312 alice bob srv :linechat",
    ":srv 301 alice bob :lunch",
    ":srv 317 alice bob 7 5 :seconds idle, signon time",
    ":srv 318 alice bob :End of /WHOIS list",
  ]);
});

Deno.test("Events.event() completes registration on the first name, a NICK on later ones", () => {
  const { door, events, identities, calls } = setup(undefined);
  answer(door, events, { type: "named", ts: TS, name: "alice", auto: false });
  assert.deepEqual(calls, ["named"]);
  assert.equal(door.state.nick, "alice");
  door.state.registered = true;
  door.state.user = { user: "al", real: "Alice" };
  const renamed: ServerEvent = {
    type: "named",
    ts: TS,
    name: "alicia",
    previous: "alice",
    auto: false,
  };
  assert.deepEqual(answer(door, events, renamed), [":alice!alice@linechat NICK alicia"]);
  assert.deepEqual(calls, ["named"]);
  assert.deepEqual(identities.get("ALICIA"), { user: "al", real: "Alice" });
});

Deno.test("Events.event() hands SASL's answers to registration, whatever is held", () => {
  const { door, events, calls } = setup(undefined);
  door.state.held = [];
  const named: ServerEvent = { type: "named", ts: TS, name: "alice", auto: false };
  answer(door, events, named, { kind: "sasl", password: "pw" });
  answer(door, events, { type: "error", ts: TS, code: "wrong-password", text: "no" }, {
    kind: "sasl-pass",
  });
  assert.deepEqual(calls, ["sasl named sasl", "sasl error sasl-pass"]);
  assert.equal(door.state.held.length, 0);
});

Deno.test("Events.event() holds events for the welcome; too many end the connection", () => {
  const { door, events } = setup(undefined);
  door.state.held = [];
  const message: ServerEvent = { type: "message", ts: TS, from: "bob", room: "#lobby", text: "x" };
  for (let i = 0; i < IRC_HELD_EVENTS; i++) events.event(message);
  assert.equal(door.state.held.length, IRC_HELD_EVENTS);
  assert.deepEqual(door.lines, []);
  events.event(message);
  assert.equal(door.state.held, undefined);
  assert.deepEqual(door.lines.splice(0), ["ERROR :Closing link: registration not completed"]);
  assert.deepEqual(requested(door), [{ cmd: "quit", reason: "registration not completed" }]);
});

Deno.test("Events.event() mode tells of the server password and the name", () => {
  const { door, events } = setup(undefined);
  events.event({ type: "mode", ts: TS, mode: "json", name: "guest-1", password: true });
  assert.equal(door.state.serverPassword, true);
  assert.equal(door.state.nick, "guest-1");
  assert.deepEqual(requested(door), []);
});
