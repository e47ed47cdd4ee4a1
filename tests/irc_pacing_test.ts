// The IRC door's pacing over plain data: what a line costs, and lines delayed (never dropped)
// while the bucket refills. No hub, no socket.

import assert from "node:assert/strict";
import { IRC_QUEUED_LINES } from "../lib/server/limits.ts";
import { lineCost, OVERLONG, Pacing } from "../lib/server/irc/pacing.ts";

Deno.test("lineCost() is one per request, noticeCost per request others are told of", async (t) => {
  const cases: [string, string[], number, number][] = [
    ["PRIVMSG", ["#a", "hi"], 0, 1],
    ["PRIVMSG", ["#a,#b,bob", "hi"], 0, 3],
    ["PRIVMSG", ["a,b,c,d,e,f", "hi"], 0, 4], // at most IRC_MAX_TARGETS
    ["NAMES", ["#a,#b"], 0, 2],
    ["JOIN", ["#a"], 0, 3],
    ["JOIN", ["#a,#b"], 0, 6],
    ["JOIN", ["0"], 5, 15], // leaves every channel
    ["JOIN", ["0"], 0, 3],
    ["PART", ["#a,#b"], 2, 6],
    ["NICK", ["bob"], 0, 4],
    ["TOPIC", ["#a", "new"], 1, 4],
    ["WHO", ["#a"], 1, 1],
    ["PING", ["x"], 1, 1],
  ];
  for (const [command, params, channels, want] of cases) {
    await t.step(`${command} ${params.join(" ")} in ${channels}`, () => {
      assert.equal(lineCost(command, params, 3, channels), want);
    });
  }
});

function setup(rate: number, burst: number, cost = 1) {
  const handled: (string | typeof OVERLONG)[] = [];
  let excess = 0;
  let open = true;
  let wanted = { count: Infinity, resolve: () => {} };
  const pacing = new Pacing({
    rate,
    burst,
    cost: () => cost,
    handle: (text) => {
      if (handled.push(text) >= wanted.count) wanted.resolve();
    },
    open: () => open,
    excess: () => excess++,
  });
  /** Resolves once `count` lines have been handled. */
  const handledAll = (count: number) => new Promise<void>((resolve) => wanted = { count, resolve });
  return { pacing, handled, handledAll, excess: () => excess, close: () => open = false };
}

Deno.test("Pacing.line() handles every line at once when flood control is off", () => {
  const { pacing, handled } = setup(0, 0);
  for (let i = 0; i < 100; i++) pacing.line(`PRIVMSG #a :${i}`);
  pacing.line(OVERLONG);
  assert.equal(handled.length, 101);
  assert.equal(handled.at(-1), OVERLONG);
});

Deno.test("Pacing.line() handles the burst, then delays the rest in order", async () => {
  const { pacing, handled, handledAll } = setup(50, 2);
  for (const text of ["A", "B", "C", "D"]) pacing.line(text);
  assert.deepEqual(handled, ["A", "B"]);
  // The bucket refills at 50 a second: the rest follow without being dropped.
  await handledAll(4);
  assert.deepEqual(handled, ["A", "B", "C", "D"]);
  pacing.stop();
});

Deno.test("Pacing.line() past IRC_QUEUED_LINES waiting calls excess() and drops the line", () => {
  const { pacing, handled, excess } = setup(1, 1);
  for (let i = 0; i <= IRC_QUEUED_LINES; i++) pacing.line(`L${i}`);
  assert.deepEqual(handled, ["L0"]);
  assert.equal(excess(), 0);
  pacing.line("one more");
  assert.equal(excess(), 1);
  pacing.stop();
});

Deno.test("Pacing.line() ignores lines once the client is closing; stop() drops the waiting", () => {
  const { pacing, handled, close } = setup(1, 1);
  pacing.line("A");
  pacing.line("B");
  pacing.stop();
  close();
  pacing.line("C");
  assert.deepEqual(handled, ["A"]);
});

Deno.test("Pacing caps a cost at the burst, so a line costing more still passes", () => {
  const { pacing, handled } = setup(1, 3, 100);
  pacing.line("JOIN 0");
  assert.deepEqual(handled, ["JOIN 0"]);
});
