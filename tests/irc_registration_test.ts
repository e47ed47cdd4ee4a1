// The IRC door's registration part over plain data: PASS, NICK, USER, CAP and SASL in, the
// hub's name requests and the welcome out. No hub, no socket (tests/irc_fakes.ts).

import assert from "node:assert/strict";
import type { ServerEvent } from "../lib/protocol/events.ts";
import { parseIrc } from "../lib/server/irc/parse.ts";
import { Registration } from "../lib/server/irc/registration.ts";
import { IrcIdentities } from "../lib/server/irc/state.ts";
import { fakeDoor, requested } from "./irc_fakes.ts";

const TS = 0;

function setup() {
  const door = fakeDoor();
  const identities = new IrcIdentities();
  const calls: string[] = [];
  const registration = new Registration({
    ...door,
    options: {
      identities,
      serverName: "srv",
      version: "9.9.9",
      started: new Date(0),
      maxNameLength: 16,
      maxRoomsPerUser: 10,
    },
    joined: (room) => calls.push(`joined ${room}`),
    motd: (event) => calls.push(`motd ${event.lines.join("|")}`),
    event: (event) => calls.push(`event ${event.type}`),
  });
  /** Handles one IRC line as the door would before registration. */
  const line = (text: string) => {
    const { command, params } = parseIrc(text);
    registration.line(command, params);
  };
  return { door, registration, line, calls, identities };
}

Deno.test("Registration asks the hub for the name once NICK and USER are in", () => {
  const { door, line } = setup();
  line("PASS secret");
  line("NICK alice");
  assert.deepEqual(requested(door), []);
  line("USER al 0 * :Alice A");
  assert.deepEqual(requested(door), [{ cmd: "nick", nick: "alice", password: "secret" }]);
  assert.deepEqual(door.state.user, { user: "al", real: "Alice A" });
  assert.deepEqual(door.lines, []);
});

Deno.test("Registration waits for CAP END while capabilities are negotiated", () => {
  const { door, line } = setup();
  line("CAP LS 302");
  line("NICK alice");
  line("USER al 0 * :Alice");
  line("CAP REQ :server-time echo-message");
  line("CAP REQ :nonsense");
  assert.deepEqual(requested(door), []);
  line("CAP END");
  assert.deepEqual(requested(door), [{ cmd: "nick", nick: "alice" }]);
  assert.deepEqual(door.lines, [
    ":srv CAP * LS :server-time echo-message multi-prefix userhost-in-names sasl=PLAIN",
    ":srv CAP * ACK :server-time echo-message",
    ":srv CAP * NAK :nonsense",
  ]);
  assert.deepEqual([...door.state.caps], ["server-time", "echo-message"]);
});

Deno.test("Registration sends the server's password first, or ends without one", async (t) => {
  await t.step("with PASS", () => {
    const { door, line } = setup();
    door.state.serverPassword = true;
    line("PASS secret");
    line("NICK alice");
    line("USER al 0 * :Alice");
    assert.deepEqual(requested(door), [
      { cmd: "pass", password: "secret" },
      { cmd: "nick", nick: "alice" },
    ]);
  });
  await t.step("without", () => {
    const { door, line } = setup();
    door.state.serverPassword = true;
    line("NICK alice");
    line("USER al 0 * :Alice");
    assert.deepEqual(door.lines, [":srv 464 * :Password required"]);
    assert.deepEqual(requested(door), [{ cmd: "quit", reason: "no password" }]);
  });
});

Deno.test("Registration answers what it cannot take yet with a numeric", async (t) => {
  const cases: [string, string[]][] = [
    ["JOIN #dev", [":srv 451 * :You have not registered"]],
    ["NICK", [":srv 431 * :No nickname given"]],
    ["USER al 0 *", [":srv 461 * USER :Not enough parameters"]],
    ["PING", [":srv 461 * PING :Not enough parameters"]],
    ["PING :abc", [":srv PONG srv :abc"]],
    ["CAP FROB", [":srv 410 * FROB :Invalid CAP command"]],
    ["AUTHENTICATE PLAIN", [":srv 904 * :SASL authentication failed"]],
  ];
  for (const [text, want] of cases) {
    await t.step(JSON.stringify(text), () => {
      const { door, line } = setup();
      line(text);
      assert.deepEqual(door.lines, want);
      assert.deepEqual(requested(door), []);
    });
  }
});

Deno.test("Registration.cost() counts the line that completes registration as five", async (t) => {
  await t.step("NICK then USER", () => {
    const { registration, line } = setup();
    assert.equal(registration.cost("NICK", ["alice"]), 1);
    line("NICK alice");
    assert.equal(registration.cost("USER", ["al", "0", "*", "A"]), 5);
  });
  await t.step("CAP END", () => {
    const { registration, line } = setup();
    line("CAP LS");
    line("NICK alice");
    line("USER al 0 * :A");
    assert.equal(registration.cost("CAP", ["END"]), 5);
    assert.equal(registration.cost("CAP", ["LIST"]), 1);
  });
  await t.step("AUTHENTICATE", () => {
    const { registration } = setup();
    assert.equal(registration.cost("AUTHENTICATE", ["PLAIN"]), 5);
  });
});

Deno.test("Registration logs in by SASL PLAIN: the name, then its password", () => {
  const { door, registration, line } = setup();
  line("CAP REQ sasl");
  door.lines.length = 0;
  line("AUTHENTICATE PLAIN");
  assert.deepEqual(door.lines.splice(0), ["AUTHENTICATE +"]);
  line(`AUTHENTICATE ${btoa("\0alice\0pw")}`);
  assert.deepEqual(requested(door).at(-1), { cmd: "nick", nick: "alice" });
  const error: ServerEvent = { type: "error", ts: TS, code: "name-registered", text: "x" };
  registration.sasl(error, { kind: "sasl", password: "pw" });
  assert.deepEqual(requested(door), [{ cmd: "pass", password: "pw" }]);
  const named: ServerEvent = { type: "named", ts: TS, name: "alice", auto: false };
  registration.sasl(named, { kind: "sasl-pass" });
  assert.deepEqual(door.lines.splice(0), [
    ":srv 900 * alice!alice@linechat alice :You are now logged in as alice",
    ":srv 903 * :SASL authentication successful",
  ]);
  assert.equal(door.state.nick, "alice");
  assert.deepEqual(door.state.held, []);
  line("AUTHENTICATE PLAIN");
  assert.deepEqual(door.lines.splice(0), [":srv 907 * :SASL authentication failed"]);
});

Deno.test("Registration refuses a SASL answer that is not PLAIN's three fields", () => {
  const { door, line } = setup();
  line("CAP REQ sasl");
  line("AUTHENTICATE PLAIN");
  door.lines.length = 0;
  line(`AUTHENTICATE ${btoa("alice-only")}`);
  assert.deepEqual(door.lines, [":srv 904 * :SASL authentication failed"]);
  assert.deepEqual(requested(door), []);
});

Deno.test("Registration.named() welcomes the client after the events of the same turn", async () => {
  const { door, registration, line, calls, identities } = setup();
  line("NICK alice");
  line("USER al 0 * :Alice");
  requested(door);
  door.state.nick = "alice";
  registration.named();
  assert.equal(door.state.registered, true);
  door.state.held!.push({ type: "motd", ts: TS, lines: ["hi"] });
  door.state.held!.push({ type: "history-end", ts: TS, room: "#lobby", count: 0, history: true });
  assert.equal(door.lines.length, 0, "nothing before the turn ends");
  await Promise.resolve();
  assert.deepEqual(door.lines.map((l) => l.split(" ")[1]), ["001", "002", "003", "004", "005"]);
  assert.match(door.lines[4], /CHANLIMIT=#:10 CHANNELLEN=17 NICKLEN=16 /);
  assert.deepEqual(calls, ["motd hi", "joined #lobby", "event history-end"]);
  assert.deepEqual(requested(door), [{ cmd: "topic" }, { cmd: "users", room: "#lobby" }]);
  assert.deepEqual(identities.get("alice"), { user: "al", real: "Alice" });
  assert.equal(door.state.held, undefined);
});
