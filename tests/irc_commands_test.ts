// The IRC door's commands part over plain data: a registered client's IRC commands in, JSON
// requests to the hub (and numerics for what needs no hub) out. No hub, no socket
// (tests/irc_fakes.ts).

import assert from "node:assert/strict";
import { Commands } from "../lib/server/irc/commands.ts";
import { parseIrc } from "../lib/server/irc/parse.ts";
import { fakeDoor, requested } from "./irc_fakes.ts";

function setup() {
  const door = fakeDoor("alice");
  const calls: string[] = [];
  const commands = new Commands({
    ...door,
    cap: (params) => calls.push(`cap ${params.join(" ")}`),
    ping: (params) => calls.push(`ping ${params.join(" ")}`),
  });
  /** Handles one IRC line as the door would after registration. */
  const line = (text: string) => {
    const { command, params } = parseIrc(text);
    commands.command(command, params);
  };
  return { door, line, calls };
}

Deno.test("Commands.command() turns IRC commands into the hub's JSON requests", async (t) => {
  const cases: [string, unknown[]][] = [
    ["PRIVMSG #dev :hello there", [{ cmd: "say", room: "#dev", text: "hello there" }]],
    ["PRIVMSG bob :hi", [{ cmd: "pm", to: "bob", text: "hi" }]],
    ["PRIVMSG #dev,bob :hi", [
      { cmd: "say", room: "#dev", text: "hi" },
      { cmd: "pm", to: "bob", text: "hi" },
    ]],
    ["PRIVMSG a,b,c,d,e :hi", ["a", "b", "c", "d"].map((to) => ({ cmd: "pm", to, text: "hi" }))],
    ["PRIVMSG #dev :\x01ACTION waves\x01", [{ cmd: "me", room: "#dev", text: "waves" }]],
    ["PRIVMSG bob :\x01ACTION waves\x01", [{ cmd: "pm", to: "bob", text: "* alice waves" }]],
    ["PRIVMSG bob :\x01VERSION\x01", []],
    ["NOTICE #dev :fyi", [{ cmd: "say", room: "#dev", text: "fyi", notice: true }]],
    ["JOIN #a,#b", [{ cmd: "join", room: "#a" }, { cmd: "join", room: "#b" }]],
    ["NAMES #a", [{ cmd: "users", room: "#a" }]],
    ["LIST", [{ cmd: "rooms" }]],
    ["WHO #dev", [{ cmd: "users", room: "#dev" }]],
    ["WHO b*", [{ cmd: "users", everyone: true }]],
    ["WHOIS bob", [{ cmd: "whois", user: "bob" }]],
    ["WHOIS srv bob,carol", [{ cmd: "whois", user: "bob" }]],
    ["NICK bob", [{ cmd: "nick", nick: "bob" }]],
    ["AWAY :lunch", [{ cmd: "away", reason: "lunch" }]],
    ["AWAY", [{ cmd: "back" }]],
    ["QUIT :bye", [{ cmd: "quit", reason: "bye" }]],
    ["KICK #dev bob :spam", [{ cmd: "kick", user: "bob", reason: "spam" }]],
    ["BAN bob 1h spamming a lot", [
      { cmd: "ban", target: "bob", duration: "1h", reason: "spamming a lot" },
    ]],
    ["MUTE bob rude", [{ cmd: "mute", target: "bob", reason: "rude" }]],
    ["UNBAN bob", [{ cmd: "unban", target: "bob" }]],
    ["OPER alice secret", [{ cmd: "op", password: "secret" }]],
  ];
  for (const [text, want] of cases) {
    await t.step(JSON.stringify(text), () => {
      const { door, line } = setup();
      line(text);
      assert.deepEqual(requested(door), want);
      assert.deepEqual(door.lines, []);
    });
  }
});

Deno.test("Commands.command() answers what needs no hub with a numeric", async (t) => {
  const cases: [string, string[]][] = [
    ["PRIVMSG", [":srv 411 alice :No recipient given (PRIVMSG)"]],
    ["PRIVMSG #dev", [":srv 412 alice :No text to send"]],
    ["NOTICE #dev", []],
    ["JOIN", [":srv 461 alice JOIN :Not enough parameters"]],
    ["JOIN dev", [":srv 403 alice dev :No such channel"]],
    ["PART #dev", [":srv 442 alice #dev :You're not on that channel"]],
    ["TOPIC dev", [":srv 403 alice dev :No such channel"]],
    ["NAMES", [":srv 366 alice * :End of /NAMES list"]],
    ["WHOIS", [":srv 431 alice :No nickname given"]],
    ["NICK", [":srv 431 alice :No nickname given"]],
    ["MODE #dev", [":srv 324 alice #dev :+"]],
    ["MODE #dev b", [":srv 368 alice #dev :End of channel ban list"]],
    ["MODE #dev +o bob", [":srv 482 alice #dev :Channel modes cannot be changed here"]],
    ["MODE bob", [":srv 502 alice :Can't change mode for other users"]],
    ["MODE ALICE", [":srv 221 alice :+"]],
    ["MODE alice +i", []],
    ["KICK #dev", [":srv 461 alice KICK :Not enough parameters"]],
    ["BAN", [":srv 461 alice BAN :Not enough parameters"]],
    ["USER a 0 * :A", [":srv 462 alice :You may not reregister"]],
    ["FROB", [":srv 421 alice FROB :Unknown command"]],
    ["PONG x", []],
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

Deno.test("Commands.command() acts on the channels the client is in", () => {
  const { door, line } = setup();
  door.state.channels.add("#Dev");
  door.state.channels.add("#lobby");
  line("PART #dev :later");
  assert.deepEqual(requested(door), [{ cmd: "part", room: "#dev", reason: "later" }]);
  line("TOPIC #dev :new topic");
  assert.deepEqual(requested(door), [
    { cmd: "join", room: "#Dev" },
    { cmd: "topic", text: "new topic" },
  ]);
  line("TOPIC #dev :");
  assert.deepEqual(requested(door), [
    { cmd: "join", room: "#Dev" },
    { cmd: "topic", remove: true },
  ]);
  line("JOIN 0");
  assert.deepEqual(requested(door), [
    { cmd: "part", room: "#Dev" },
    { cmd: "part", room: "#lobby" },
  ]);
  line("TOPIC #elsewhere");
  assert.deepEqual(requested(door), [{ cmd: "users", room: "#elsewhere" }]);
  assert.deepEqual(door.lines, []);
});

Deno.test("Commands.command() says 422 when MOTD gets no answer", () => {
  const { door, line } = setup();
  line("MOTD");
  assert.deepEqual(requested(door), [{ cmd: "motd" }]);
  assert.deepEqual(door.lines, [":srv 422 alice :MOTD File is missing"]);
});

Deno.test("Commands.command() hands CAP and PING to registration's handling", () => {
  const { door, line, calls } = setup();
  line("CAP LIST");
  line("PING :abc");
  assert.deepEqual(calls, ["cap LIST", "ping abc"]);
  assert.deepEqual(requested(door), []);
});
