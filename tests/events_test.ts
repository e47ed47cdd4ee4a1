import assert from "node:assert/strict";
import {
  Outgoing,
  renderJson,
  renderScreen,
  renderText,
  type ServerEvent,
} from "../lib/protocol/events.ts";

const ts = 1_700_000_000_000;
const date = new Date(ts);
const hhmm = `${String(date.getHours()).padStart(2, "0")}:${
  String(date.getMinutes()).padStart(2, "0")
}`;

Deno.test("renderText() gives each event a distinct, named look", async (t) => {
  const cases: [ServerEvent, string][] = [
    [{ type: "message", ts, from: "alice", room: "#lobby", text: "hi" }, "alice: hi"],
    [
      { type: "message", ts, from: "alice", room: "#lobby", text: "hi", history: true },
      `[history ${hhmm}] alice: hi`,
    ],
    [{ type: "action", ts, from: "alice", room: "#dev", text: "waves" }, "* alice waves"],
    [
      { type: "action", ts, from: "alice", room: "#dev", text: "waves", history: true },
      `[history ${hhmm}] * alice waves`,
    ],
    [{ type: "private", ts, from: "alice", to: "bob", text: "hi" }, "[pm from alice] hi"],
    [
      { type: "group", ts, from: "alice", to: ["bob", "carol"], text: "hi" },
      "[group from alice to bob, carol] hi",
    ],
    [{ type: "sent", ts, kind: "private", to: ["bob"], text: "hi" }, "[pm to bob] hi"],
    [
      { type: "sent", ts, kind: "group", to: ["bob", "carol"], text: "hi" },
      "[group to bob, carol] hi",
    ],
    [{ type: "announce", ts, from: "server", text: "hello" }, "[server] hello"],
    [
      { type: "join", ts, name: "bob", room: "#lobby", count: 2, members: 2 },
      "* bob joined (2 online)",
    ],
    [
      { type: "join", ts, name: "bob", room: "#dev", count: 5, members: 2, moved: true },
      "* bob joined #dev (2 here)",
    ],
    [{ type: "quit", ts, name: "bob", count: 1 }, "* bob left (1 online)"],
    [
      { type: "quit", ts, name: "bob", count: 1, reason: "kicked" },
      "* bob left: kicked (1 online)",
    ],
    [
      { type: "leave", ts, name: "bob", room: "#dev", count: 3, members: 1 },
      "* bob left #dev (1 here)",
    ],
    [
      { type: "leave", ts, name: "bob", room: "#dev", count: 3, members: 0, reason: "lunch" },
      "* bob left #dev: lunch (0 here)",
    ],
    [{ type: "rename", ts, from: "bob", to: "rob" }, "* bob is now rob"],
    [
      { type: "users", ts, room: "#lobby", names: ["a", "b"], count: 2, online: 2 },
      "* 2 online: a, b",
    ],
    [
      { type: "users", ts, room: "#dev", names: ["a", "b"], count: 2, online: 5 },
      "* 2 in #dev (5 online): a, b",
    ],
    [
      { type: "room", ts, room: "#dev", names: ["a", "b"], topic: "rust" },
      "* you are in #dev (2 here: a, b)\r\n* topic: rust",
    ],
    [
      { type: "room", ts, room: "#dev", names: ["a", "b"], switched: true },
      "* now talking in #dev (2 here: a, b)",
    ],
    [
      {
        type: "rooms",
        ts,
        rooms: [
          { name: "#lobby", members: 3, joined: true },
          { name: "#dev", members: 1, topic: "x", joined: true, active: true },
          { name: "#music", members: 2 },
        ],
      },
      "* 3 rooms (> active, + joined):\r\n+ #lobby (3)\r\n> #dev (1) x\r\n  #music (2)",
    ],
    [
      { type: "topic", ts, room: "#dev", topic: "rust", by: "a", changed: true },
      "* a set the topic of #dev: rust",
    ],
    [
      { type: "topic", ts, room: "#dev", topic: "rust", by: "a", changed: false },
      "* topic of #dev: rust (set by a)",
    ],
    [{ type: "topic", ts, room: "#dev", changed: false }, "* #dev has no topic"],
    [
      {
        type: "whois",
        ts,
        name: "bob",
        rooms: ["#dev", "#lobby"],
        since: ts,
        idleSeconds: 12,
        away: "lunch",
      },
      `* bob: in #dev, #lobby, here since ${hhmm}, idle 12 s, away: lunch`,
    ],
    [{ type: "motd", ts, lines: ["one", "two"] }, "- one\r\n- two"],
    [{ type: "help", ts, lines: ["one", "two"] }, "one\r\ntwo"],
    [{ type: "system", ts, text: "note" }, "* note"],
    [{ type: "error", ts, code: "usage", text: "usage: /pm USER" }, "! usage: /pm USER"],
    [
      { type: "named", ts, name: "guest-1", auto: true },
      "* you are guest-1 (change it with /nick NAME; /help lists the commands)",
    ],
    [{ type: "named", ts, name: "al", auto: false }, "* welcome, al! /help lists the commands"],
    [{ type: "named", ts, name: "al", previous: "x", auto: false }, "* you are now al"],
    [{ type: "mode", ts, mode: "text", name: null }, "* output mode is now text"],
    [{ type: "bye", ts, reason: "goodbye" }, "* goodbye"],
    [{ type: "prompt", ts, for: "name", text: "choose a name:" }, "choose a name:"],
  ];
  for (const [event, want] of cases) {
    await t.step(event.type, () => assert.equal(renderText(event), want));
  }
});

Deno.test("renderJson() is one line that parses back to the event", () => {
  const e: ServerEvent = {
    type: "message",
    ts,
    from: "a",
    room: "#lobby",
    text: 'quote " and\nnewline',
  };
  const json = renderJson(e);
  assert.ok(!json.includes("\n"));
  assert.deepEqual(JSON.parse(json), e);
});

Deno.test("Outgoing.bytes() encodes once per mode and ends lines in CRLF", () => {
  const out = new Outgoing({ type: "system", ts, text: "x" });
  const text = out.bytes("text");
  assert.equal(out.bytes("text"), text);
  assert.equal(new TextDecoder().decode(text), "* x\r\n");
  const json = new TextDecoder().decode(out.bytes("json"));
  assert.ok(json.endsWith("\r\n"));
  assert.deepEqual(JSON.parse(json), { type: "system", ts, text: "x" });
});

Deno.test("Outgoing.bytes() marks a room's line with its room for a viewer elsewhere", async (t) => {
  const text = (out: Outgoing, marked: boolean) =>
    new TextDecoder().decode(out.bytes("text", marked));
  const cases: [ServerEvent, string | undefined][] = [
    [{ type: "message", ts, from: "al", room: "#dev", text: "hi" }, "[#dev] al: hi\r\n"],
    [{ type: "action", ts, from: "al", room: "#dev", text: "waves" }, "[#dev] * al waves\r\n"],
    [
      { type: "join", ts, name: "al", room: "#dev", count: 3, members: 2, moved: true },
      "[#dev] * al joined #dev (2 here)\r\n",
    ],
    [
      { type: "leave", ts, name: "al", room: "#dev", count: 3, members: 1 },
      "[#dev] * al left #dev (1 here)\r\n",
    ],
    [
      { type: "topic", ts, room: "#dev", topic: "rust", by: "al", changed: true },
      "[#dev] * al set the topic of #dev: rust\r\n",
    ],
    // Not a room's line: never marked.
    [{ type: "quit", ts, name: "al", count: 1 }, undefined],
    [{ type: "private", ts, from: "al", to: "bo", text: "hi" }, undefined],
  ];
  for (const [event, marked] of cases) {
    await t.step(event.type, () => {
      const out = new Outgoing(event);
      assert.equal(text(out, true), marked ?? text(out, false));
      assert.equal(text(out, false), renderScreen(event) + "\r\n", "unmarked when active");
      // JSON carries the room as a field, never a mark.
      assert.deepEqual(JSON.parse(new TextDecoder().decode(out.bytes("json"))), event);
    });
  }
  // A mark can push a line past 80 columns: it wraps like any other.
  const long = new Outgoing({
    type: "message",
    ts,
    from: "al",
    room: "#dev",
    text: "x ".repeat(40),
  });
  for (const row of text(long, true).split("\r\n").slice(1, -1)) assert.ok(row.startsWith("    "));
});
