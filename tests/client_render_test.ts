// Tests for lib/client/render.ts: what each event looks like, name colours and the
// mention highlight.

import {
  deepStrictEqual as assertEquals,
  notDeepStrictEqual,
  ok as assert,
} from "node:assert/strict";
import { renderEvent, STYLES } from "../lib/client/render.ts";
import { clock, mentions, nameColour } from "../lib/protocol/looks.ts";
import type { ServerEvent } from "../lib/protocol/events.ts";
import { plainText } from "../lib/protocol/ansi.ts";

const TS = new Date(2024, 0, 1, 9, 5).getTime();
const me = { me: "alice" };

const TEXT_CASES: [string, ServerEvent, string[]][] = [
  ["a message", { type: "message", ts: TS, from: "bob", room: "#lobby", text: "hi" }, [
    "09:05 <bob> hi",
  ]],
  ["your own message", { type: "message", ts: TS, from: "alice", room: "#lobby", text: "hey" }, [
    "09:05 <alice> hey",
  ]],
  ["an action", { type: "action", ts: TS, from: "bob", room: "#lobby", text: "waves" }, [
    "09:05 * bob waves",
  ]],
  ["your own action", { type: "action", ts: TS, from: "alice", room: "#dev", text: "codes" }, [
    "09:05 * alice codes",
  ]],
  ["a message from history", {
    type: "message",
    ts: TS,
    from: "bob",
    room: "#lobby",
    text: "earlier",
    history: true,
  }, ["09:05 [history] <bob> earlier"]],
  ["the room you are in, with its topic", {
    type: "room",
    ts: TS,
    room: "#dev",
    names: ["alice", "bob"],
    topic: "rust",
  }, ["09:05 * you are in #dev (2 here: alice, bob)", "      * topic: rust"]],
  ["a switch to a room you are in", {
    type: "room",
    ts: TS,
    room: "#dev",
    names: ["alice", "bob"],
    switched: true,
  }, ["09:05 * now talking in #dev (2 here: alice, bob)"]],
  ["the room list, the active and joined ones marked", {
    type: "rooms",
    ts: TS,
    rooms: [
      { name: "#dev", members: 1, topic: "rust", joined: true, active: true },
      { name: "#lobby", members: 2, joined: true },
      { name: "#music", members: 3 },
    ],
  }, [
    "09:05 * 3 rooms (> active, + joined):",
    "      > #dev (1) rust",
    "      + #lobby (2)",
    "        #music (3)",
  ]],
  ["a user's rooms", {
    type: "whois",
    ts: TS,
    name: "bob",
    rooms: ["#lobby", "#dev"],
    since: TS,
    idleSeconds: 3,
  }, ["09:05 * bob: in #lobby, #dev, here since 09:05, idle 3 s"]],
  ["a private message", { type: "private", ts: TS, from: "bob", to: "alice", text: "psst" }, [
    "09:05 [pm from bob] psst",
  ]],
  ["a group message", {
    type: "group",
    ts: TS,
    from: "bob",
    to: ["alice", "carol"],
    text: "all",
  }, ["09:05 [group from bob to alice, carol] all"]],
  ["a private message sent", {
    type: "sent",
    ts: TS,
    kind: "private",
    to: ["bob"],
    text: "ok",
  }, ["09:05 [pm to bob] ok"]],
  ["a group message sent", {
    type: "sent",
    ts: TS,
    kind: "group",
    to: ["bob", "carol"],
    text: "ok",
  }, ["09:05 [group to bob, carol] ok"]],
  ["a server announcement", { type: "announce", ts: TS, from: "server", text: "reboot" }, [
    "09:05 [server] reboot",
  ]],
  ["a join", { type: "join", ts: TS, name: "bob", room: "#lobby", count: 2, members: 2 }, [
    "09:05 * bob joined (2 online)",
  ]],
  ["a leave of a room with a reason", {
    type: "leave",
    ts: TS,
    name: "bob",
    room: "#dev",
    count: 3,
    members: 1,
    reason: "later",
  }, [
    "09:05 * bob left #dev: later (1 here)",
  ]],
  ["a leave of a room", {
    type: "leave",
    ts: TS,
    name: "bob",
    room: "#dev",
    count: 3,
    members: 1,
  }, ["09:05 * bob left #dev (1 here)"]],
  ["a quit with a reason", { type: "quit", ts: TS, name: "bob", count: 1, reason: "bye" }, [
    "09:05 * bob left: bye (1 online)",
  ]],
  ["a quit", { type: "quit", ts: TS, name: "bob", count: 1 }, ["09:05 * bob left (1 online)"]],
  ["a rename", { type: "rename", ts: TS, from: "bob", to: "rob" }, ["09:05 * bob is now rob"]],
  [
    "the users",
    { type: "users", ts: TS, room: "*", names: ["alice", "bob"], count: 2, online: 2 },
    [
      "09:05 * 2 online: alice, bob",
    ],
  ],
  ["an error", { type: "error", ts: TS, code: "unknown-user", text: "no user named x" }, [
    "09:05 ! no user named x",
  ]],
  ["a notice", { type: "system", ts: TS, text: "type your message" }, [
    "09:05 * type your message",
  ]],
  ["help, one line per entry", { type: "help", ts: TS, lines: ["commands:", "  /help"] }, [
    "09:05 commands:",
    "        /help",
  ]],
  ["bye", { type: "bye", ts: TS, reason: "kicked by the server: spam" }, [
    "09:05 * kicked by the server: spam",
  ]],
  ["auto-naming", { type: "named", ts: TS, name: "guest-1", auto: true }, [
    "09:05 * you are guest-1 (change it with /nick NAME; /help lists the commands)",
  ]],
];

Deno.test("renderEvent() shows each event as text with a timestamp", async (t) => {
  for (const [name, event, want] of TEXT_CASES) {
    await t.step(name, () => assertEquals(renderEvent(event, me).map(plainText), want));
  }
});

function styleOf(event: ServerEvent, text: string) {
  return renderEvent(event, me)[0].find((s) => s.text === text)?.style;
}

Deno.test("renderEvent() gives each kind of line its own look", async (t) => {
  await t.step("your own message is dimmed, its name bold", () => {
    const e: ServerEvent = { type: "message", ts: TS, from: "alice", room: "#lobby", text: "mine" };
    assertEquals(styleOf(e, "alice"), STYLES.ownName);
    assertEquals(styleOf(e, "> mine"), STYLES.own);
  });
  await t.step("someone else's name in its own colour", () => {
    const e: ServerEvent = { type: "message", ts: TS, from: "bob", room: "#lobby", text: "x" };
    assertEquals(styleOf(e, "bob"), { fg: nameColour("bob"), bold: true });
    assertEquals(styleOf(e, "x"), undefined);
  });
  await t.step("private, group, server, error and notice tags", () => {
    assertEquals(
      styleOf({ type: "private", ts: TS, from: "b", to: "alice", text: "x" }, "[pm from "),
      STYLES.private,
    );
    assertEquals(
      styleOf({ type: "group", ts: TS, from: "b", to: ["alice"], text: "x" }, "[group from "),
      STYLES.group,
    );
    assertEquals(
      styleOf({ type: "announce", ts: TS, from: "server", text: "x" }, "[server] "),
      STYLES.announce,
    );
    assertEquals(styleOf({ type: "error", ts: TS, code: "usage", text: "x" }, "! x"), STYLES.error);
    assertEquals(
      styleOf(
        { type: "join", ts: TS, name: "b", room: "#lobby", count: 2, members: 2 },
        "* b joined (2 online)",
      ),
      STYLES.notice,
    );
  });
  await t.step("a message mentioning you is highlighted", () => {
    const e: ServerEvent = {
      type: "message",
      ts: TS,
      from: "bob",
      room: "#lobby",
      text: "hey Alice!",
    };
    assertEquals(styleOf(e, "hey Alice!"), STYLES.mention);
    const pm: ServerEvent = { type: "private", ts: TS, from: "bob", to: "alice", text: "@alice" };
    assertEquals(styleOf(pm, "@alice"), STYLES.mention);
  });
  await t.step("your own message naming you is not highlighted", () => {
    const e: ServerEvent = {
      type: "message",
      ts: TS,
      from: "alice",
      room: "#lobby",
      text: "alice here",
    };
    assertEquals(styleOf(e, "> alice here"), STYLES.own);
  });
});

Deno.test("renderEvent() marks a line from a room that is not active after the time", async (t) => {
  const cases: [string, ServerEvent, string[]][] = [
    ["a message", { type: "message", ts: TS, from: "bob", room: "#dev", text: "hi" }, [
      "09:05 [#dev] <bob> hi",
    ]],
    ["your own message", { type: "message", ts: TS, from: "alice", room: "#dev", text: "hey" }, [
      "09:05 [#dev] <alice> hey",
    ]],
    ["an action", { type: "action", ts: TS, from: "bob", room: "#dev", text: "waves" }, [
      "09:05 [#dev] * bob waves",
    ]],
    ["a replayed message", {
      type: "message",
      ts: TS,
      from: "bob",
      room: "#dev",
      text: "earlier",
      history: true,
    }, ["09:05 [#dev] [history] <bob> earlier"]],
    ["a join", {
      type: "join",
      ts: TS,
      name: "bob",
      room: "#dev",
      count: 3,
      members: 2,
      moved: true,
    }, ["09:05 [#dev] * bob joined #dev (2 here)"]],
    ["a leave", { type: "leave", ts: TS, name: "bob", room: "#dev", count: 3, members: 1 }, [
      "09:05 [#dev] * bob left #dev (1 here)",
    ]],
    ["a topic change", {
      type: "topic",
      ts: TS,
      room: "#dev",
      topic: "rust",
      by: "bob",
      changed: true,
    }, ["09:05 [#dev] * bob set the topic of #dev: rust"]],
  ];
  for (const [name, event, want] of cases) {
    await t.step(name, () => assertEquals(renderEvent(event, me, "#dev").map(plainText), want));
  }
  await t.step("the mark has a look of its own; the rest keeps its own", () => {
    const e: ServerEvent = { type: "message", ts: TS, from: "bob", room: "#dev", text: "alice?" };
    const [line] = renderEvent(e, me, "#dev");
    assertEquals(line.find((s) => s.text === "[#dev] ")?.style, STYLES.mark);
    assertEquals(line.find((s) => s.text === "alice?")?.style, STYLES.mention);
  });
});

Deno.test("mentions() matches the name as a whole word, any case", async (t) => {
  const cases: [string, string, string | undefined, boolean][] = [
    ["plain", "hi alice", "alice", true],
    ["upper case", "HI ALICE", "alice", true],
    ["with @", "@alice look", "alice", true],
    ["before punctuation", "alice, look", "alice", true],
    ["at the end of a sentence", "ask alice.", "alice", true],
    ["inside a longer word", "malice", "alice", false],
    ["a longer name", "alice_2 hi", "alice", false],
    ["a name with a dot is literal", "a.b", "a.c", false],
    ["no name yet", "alice", undefined, false],
  ];
  for (const [name, text, who, want] of cases) {
    await t.step(name, () => assertEquals(mentions(text, who), want));
  }
});

Deno.test("nameColour() is stable, case-blind and spreads names out", () => {
  assertEquals(nameColour("bob"), nameColour("bob"));
  assertEquals(nameColour("Bob"), nameColour("bob"));
  const colours = new Set(
    ["alice", "bob", "carol", "dave", "eve", "frank", "grace"].map(nameColour),
  );
  assert(colours.size >= 3, `only ${colours.size} colours for 7 names`);
  notDeepStrictEqual(nameColour("alice"), undefined);
});

Deno.test("clock() shows local hours and minutes", () => {
  assertEquals(clock(new Date(2024, 5, 1, 23, 7).getTime()), "23:07");
  assertEquals(clock(new Date(2024, 5, 1, 0, 0).getTime()), "00:00");
});
