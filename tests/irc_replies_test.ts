// The IRC door's replies part over plain data: the hub's `system` and `error` events as
// numerics or notices, by the request they answer. No hub, no socket (tests/irc_fakes.ts).

import assert from "node:assert/strict";
import { Replies } from "../lib/server/irc/replies.ts";
import type { Context } from "../lib/server/irc/requests.ts";
import { fakeDoor, requested } from "./irc_fakes.ts";

function setup() {
  const door = fakeDoor("alice");
  return { door, replies: new Replies(door) };
}

const say = (target: string, notice = false): Context => ({
  kind: "say",
  target,
  text: "hi",
  action: false,
  notice,
});

Deno.test("Replies.error() reads an error code in the context of its request", async (t) => {
  const cases: [string, Context | undefined, string, string[]][] = [
    ["no context", undefined, "usage", [":srv NOTICE alice :TEXT"]],
    ["PRIVMSG to nobody", say("bob"), "unknown-user", [":srv 401 alice bob :TEXT"]],
    ["PRIVMSG muted in a room", say("#dev"), "muted", [":srv 404 alice #dev :TEXT"]],
    ["NOTICE: never answered", say("#dev", true), "muted", []],
    ["NICK taken", { kind: "nick", nick: "bob" }, "name-taken", [":srv 433 alice bob :TEXT"]],
    ["NICK invalid", { kind: "nick", nick: "b.b" }, "name-invalid", [
      ":srv 432 alice b.b :TEXT",
    ]],
    ["NICK too fast", { kind: "nick", nick: "bob" }, "flood", [":srv NOTICE alice :TEXT"]],
    ["JOIN too many", { kind: "join" }, "too-many-rooms", [":srv 405 alice * :TEXT"]],
    ["JOIN invalid", { kind: "join" }, "room-invalid", [":srv 403 alice * :TEXT"]],
    ["PART not in", { kind: "part" }, "not-in-room", [":srv 442 alice * :TEXT"]],
    ["TOPIC not allowed", { kind: "topic", room: "#dev", query: false }, "not-allowed", [
      ":srv 482 alice #dev :TEXT",
    ]],
    ["WHOIS nobody", { kind: "whois", target: "zed" }, "unknown-user", [
      ":srv 401 alice zed :No such nick",
      ":srv 318 alice zed :End of /WHOIS list",
    ]],
    ["TOPIC of no room", { kind: "exists", room: "#no" }, "room-invalid", [
      ":srv 403 alice #no :No such channel",
    ]],
    ["WHO", { kind: "who", target: "#x" }, "room-invalid", [
      ":srv 315 alice #x :End of WHO list",
    ]],
    ["NAMES", { kind: "names", target: "#x" }, "room-invalid", [
      ":srv 366 alice #x :End of /NAMES list",
    ]],
    ["KICK by a non-operator", { kind: "kick" }, "not-allowed", [
      ":srv 481 alice :Permission Denied- You're not an IRC operator",
    ]],
    ["OPER wrong password", { kind: "op" }, "wrong-password", [":srv 464 alice :TEXT"]],
    ["OPER not allowed", { kind: "op" }, "not-allowed", [
      ":srv 491 alice :No O-lines for your host",
    ]],
  ];
  for (const [name, context, code, want] of cases) {
    await t.step(name, () => {
      const { door, replies } = setup();
      replies.error(code, "TEXT", context);
      assert.deepEqual(door.lines, want);
      assert.deepEqual(requested(door), []);
    });
  }
});

Deno.test("Replies.error() leaves the hub's password prompt after a NICK of an account", () => {
  const { door, replies } = setup();
  replies.error("name-registered", "TEXT", { kind: "nick", nick: "bob" });
  assert.deepEqual(door.lines, [":srv 433 alice bob :TEXT"]);
  assert.deepEqual(requested(door), [""]);
});

Deno.test("Replies.error() ends the connection after a wrong server password", () => {
  const { door, replies } = setup();
  replies.error("wrong-password", "wrong password", { kind: "pass" });
  assert.deepEqual(door.lines, [":srv 464 alice :wrong password"]);
  assert.deepEqual(requested(door), [{ cmd: "quit", reason: "wrong password" }]);
});

Deno.test("Replies.system() reads a note in the context of its request", async (t) => {
  const cases: [string, Context | undefined, string, string[]][] = [
    ["no context", undefined, "hello there", [":srv NOTICE alice :hello there"]],
    ["PRIVMSG to someone away", say("Bob"), "bob is away: lunch", [":srv 301 alice bob :lunch"]],
    ["NOTICE to someone away", say("bob", true), "bob is away: lunch", []],
    ["PRIVMSG, another note", say("bob"), "carol is away: x", [
      ":srv NOTICE alice :carol is away: x",
    ]],
    ["JOIN of the active room", { kind: "join" }, "you are in #dev already", []],
    ["AWAY", { kind: "away" }, "you are away", [
      ":srv 306 alice :You have been marked as being away",
    ]],
    ["back", { kind: "back" }, "welcome back", [
      ":srv 305 alice :You are no longer marked as being away",
    ]],
  ];
  for (const [name, context, text, want] of cases) {
    await t.step(name, () => {
      const { door, replies } = setup();
      replies.system(text, context);
      assert.deepEqual(door.lines, want);
    });
  }
});

Deno.test("Replies.system() makes the client an IRC operator when the hub does", () => {
  const { door, replies } = setup();
  replies.system("you are now an operator", { kind: "op" });
  assert.deepEqual(door.lines, [":srv 381 alice :You are now an IRC operator"]);
  assert.equal(door.state.operator, true);
});
