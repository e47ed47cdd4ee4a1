import assert from "node:assert/strict";
import { ctcpAction, isCtcp, MAX_PARAMS, parseIrc } from "../lib/server/irc/parse.ts";

Deno.test("parseIrc() splits a line into its command and parameters", async (t) => {
  const cases: [string, string, string[]][] = [
    ["NICK alice", "NICK", ["alice"]],
    ["nick alice", "NICK", ["alice"]],
    ["PRIVMSG #dev :hello there", "PRIVMSG", ["#dev", "hello there"]],
    ["PRIVMSG #dev ::-)", "PRIVMSG", ["#dev", ":-)"]],
    ["TOPIC #dev :", "TOPIC", ["#dev", ""]],
    ["JOIN :", "JOIN", [""]],
    ["USER u 0 * :Real Name", "USER", ["u", "0", "*", "Real Name"]],
    ["  PING   x  y", "PING", ["x", "y"]],
    [":src PRIVMSG bob hi", "PRIVMSG", ["bob", "hi"]],
    ["@time=x;a=b :src NOTICE bob :hi", "NOTICE", ["bob", "hi"]],
    ["@only-tags", "", []],
    ["", "", []],
    ["QUIT", "QUIT", []],
  ];
  for (const [line, command, params] of cases) {
    await t.step(JSON.stringify(line), () => assert.deepEqual(parseIrc(line), { command, params }));
  }
});

Deno.test("parseIrc() keeps at most MAX_PARAMS parameters, the last holding the rest", () => {
  const words = Array.from({ length: 20 }, (_, i) => `p${i}`);
  const { params } = parseIrc(`CMD ${words.join(" ")}`);
  assert.equal(params.length, MAX_PARAMS);
  assert.equal(params[MAX_PARAMS - 1], words.slice(MAX_PARAMS - 1).join(" "));
});

Deno.test("ctcpAction() reads CTCP ACTION and nothing else", async (t) => {
  const cases: [string, string | undefined][] = [
    ["\x01ACTION waves\x01", "waves"],
    ["\x01ACTION waves", "waves"],
    ["\x01ACTION\x01", ""],
    ["\x01VERSION\x01", undefined],
    ["ACTION waves", undefined],
  ];
  for (const [text, want] of cases) {
    await t.step(JSON.stringify(text), () => assert.equal(ctcpAction(text), want));
  }
  assert.equal(isCtcp("\x01VERSION\x01"), true);
  assert.equal(isCtcp("hi"), false);
});
