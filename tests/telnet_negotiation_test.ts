// Unit tests of the telnet negotiation state machine, fed whole and one byte at a time.

import * as assert from "node:assert/strict";
import {
  AYT,
  DO,
  DONT,
  ECHO,
  IAC,
  IP,
  NAWS,
  Negotiation,
  SB,
  SE,
  SGA,
  TM,
  WILL,
  WONT,
} from "../lib/server/telnet/negotiation.ts";

/** What the machine did, as plain data. */
interface Seen {
  data: number[];
  sent: number[][];
  commands: number[];
  answered: boolean[];
  sizes: [number, number][];
  changes: number;
}

function machine(): { n: Negotiation; seen: Seen } {
  const seen: Seen = { data: [], sent: [], commands: [], answered: [], sizes: [], changes: 0 };
  const n = new Negotiation({
    data: (b) => seen.data.push(...b),
    send: (b) => seen.sent.push([...b]),
    command: (c) => seen.commands.push(c),
    answered: (mark) => seen.answered.push(mark),
    changed: () => seen.changes++,
    size: (w, h) => seen.sizes.push([w, h]),
  });
  return { n, seen };
}

/** Runs `input` through a fresh machine whole, then byte by byte; both must agree. */
function feed(input: number[], before?: (n: Negotiation) => void): Seen {
  const whole = machine();
  before?.(whole.n);
  whole.n.push(Uint8Array.from(input));
  const bytes = machine();
  before?.(bytes.n);
  for (const b of input) bytes.n.push(Uint8Array.of(b));
  assert.deepEqual(bytes.seen, whole.seen, "one byte at a time agrees with the whole");
  return whole.seen;
}

const text = (s: string) => [...new TextEncoder().encode(s)];

Deno.test("Negotiation passes data through and takes negotiation out", async (t) => {
  const cases: [string, number[], number[]][] = [
    ["plain text", text("hi\r\n"), text("hi\r\n")],
    ["a WILL in the middle", [...text("a"), IAC, WILL, 24, ...text("b")], text("ab")],
    ["IAC IAC stays escaped for the framer", [...text("a"), IAC, IAC, ...text("b")], [
      ...text("a"),
      IAC,
      IAC,
      ...text("b"),
    ]],
    ["a subnegotiation", [...text("x"), IAC, SB, 24, 0, 65, IAC, SE, ...text("y")], text("xy")],
    ["NOP and GA", [IAC, 241, ...text("z"), IAC, 249], text("z")],
    ["an overlong subnegotiation", [IAC, SB, 99, ...new Array(500).fill(7), IAC, SE, 0x41], [
      0x41,
    ]],
  ];
  for (const [name, input, data] of cases) {
    await t.step(name, () => assert.deepEqual(feed(input).data, data));
  }
});

Deno.test("Negotiation answers DO TIMING-MARK with WILL, after the data before it", () => {
  const order: string[] = [];
  const n = new Negotiation({
    data: () => order.push("data"),
    send: (b) => order.push(`send ${[...b]}`),
    command: (c) => order.push(`command ${c}`),
    answered: () => {},
    changed: () => {},
    size: () => {},
  });
  // What Debian's telnet sends on Ctrl+C: IAC IP IAC DO TIMING-MARK.
  n.push(Uint8Array.of(0x61, IAC, IP, IAC, DO, TM));
  assert.deepEqual(order, ["data", `command ${IP}`, `send ${[IAC, WILL, TM]}`]);
});

Deno.test("Negotiation reports AYT and IP as commands", () => {
  const seen = feed([IAC, AYT, IAC, IP]);
  assert.deepEqual(seen.commands, [AYT, IP]);
  assert.deepEqual(seen.answered, [false]);
});

Deno.test("Negotiation refuses options it does not support, once each, never looping", async (t) => {
  const cases: [string, number[], number[][]][] = [
    ["WILL TERMINAL-TYPE", [IAC, WILL, 24], [[IAC, DONT, 24]]],
    ["DO LINEMODE", [IAC, DO, 34], [[IAC, WONT, 34]]],
    ["DO ECHO unasked", [IAC, DO, ECHO], [[IAC, WONT, ECHO]]],
    ["WONT for an option off", [IAC, WONT, 24], []],
    ["DONT for an option off", [IAC, DONT, 1], []],
    ["DONT TIMING-MARK", [IAC, DONT, TM], []],
    ["WILL NAWS accepted", [IAC, WILL, NAWS], [[IAC, DO, NAWS]]],
    ["WILL NAWS twice accepted once", [IAC, WILL, NAWS, IAC, WILL, NAWS], [[IAC, DO, NAWS]]],
    ["DO SGA accepted", [IAC, DO, SGA], [[IAC, WILL, SGA]]],
    ["WILL TIMING-MARK unasked", [IAC, WILL, TM], [[IAC, DONT, TM]]],
    ["WONT TIMING-MARK unasked", [IAC, WONT, TM], []],
  ];
  for (const [name, input, sent] of cases) {
    await t.step(name, () => assert.deepEqual(feed(input).sent, sent));
  }
});

Deno.test("Negotiation.enable() asks once; the answer turns it on without another reply", () => {
  const { n, seen } = machine();
  n.enable(ECHO);
  n.enable(ECHO);
  assert.deepEqual(seen.sent, [[IAC, WILL, ECHO]]);
  assert.equal(n.local(ECHO), false);
  n.push(Uint8Array.of(IAC, DO, ECHO));
  assert.equal(n.local(ECHO), true);
  assert.equal(seen.sent.length, 1, "an answer is not answered");
  n.disable(ECHO);
  assert.deepEqual(seen.sent[1], [IAC, WONT, ECHO]);
  n.push(Uint8Array.of(IAC, DONT, ECHO));
  assert.equal(n.local(ECHO), false);
  assert.equal(seen.sent.length, 2, "an answer is not answered");
  assert.equal(seen.changes, 2);
});

Deno.test("Negotiation.enable() while a WONT is unanswered asks again after the answer", () => {
  const { n, seen } = machine();
  n.enable(ECHO);
  n.push(Uint8Array.of(IAC, DO, ECHO));
  n.disable(ECHO);
  n.enable(ECHO);
  assert.deepEqual(seen.sent, [[IAC, WILL, ECHO], [IAC, WONT, ECHO]], "waits for the answer");
  n.push(Uint8Array.of(IAC, DONT, ECHO));
  assert.deepEqual(seen.sent[2], [IAC, WILL, ECHO]);
  n.push(Uint8Array.of(IAC, DO, ECHO));
  assert.equal(n.local(ECHO), true);
  assert.equal(seen.sent.length, 3);
});

Deno.test("Negotiation.enable() refused with DONT leaves it off, no reply", () => {
  const { n, seen } = machine();
  n.enable(ECHO);
  n.push(Uint8Array.of(IAC, DONT, ECHO));
  assert.equal(n.local(ECHO), false);
  assert.deepEqual(seen.sent, [[IAC, WILL, ECHO]]);
});

Deno.test("Negotiation: a peer that echoes every verb back never makes a loop", () => {
  // The peer mirrors whatever it is sent; the exchange must die out.
  let rounds = 0;
  const queue: Uint8Array[] = [];
  const n = new Negotiation({
    data() {},
    send: (b) => queue.push(b),
    command() {},
    answered() {},
    changed() {},
    size() {},
  });
  const mirror = { [WILL]: DO, [DO]: WILL, [WONT]: DONT, [DONT]: WONT } as Record<number, number>;
  n.enable(ECHO);
  n.enable(SGA);
  n.ask(NAWS);
  n.disable(ECHO);
  while (queue.length > 0 && rounds++ < 100) {
    const b = queue.shift()!;
    n.push(Uint8Array.of(IAC, mirror[b[1]], b[2]));
  }
  assert.ok(rounds < 20, `settled after ${rounds} exchanges`);
});

Deno.test("Negotiation reads NAWS sizes, IAC IAC inside included, only once agreed", () => {
  const size = [IAC, SB, NAWS, 0, 120, 0, IAC, IAC, IAC, SE];
  assert.deepEqual(feed(size).sizes, [], "not before WILL NAWS");
  const seen = feed([IAC, WILL, NAWS, ...size, IAC, SB, NAWS, 1, 0, 0, 40, IAC, SE]);
  assert.deepEqual(seen.sizes, [[120, 255], [256, 40]]);
  assert.deepEqual(feed([IAC, WILL, NAWS, IAC, SB, NAWS, 0, 80, IAC, SE]).sizes, [], "too short");
});

Deno.test("Negotiation.probe() counts TIMING-MARK answers, WILL or WONT, and caps probes", () => {
  const { n, seen } = machine();
  assert.ok(n.probe());
  assert.deepEqual(seen.sent, [[IAC, DO, TM]]);
  n.push(Uint8Array.of(IAC, WONT, TM));
  assert.deepEqual(seen.answered, [false, true]);
  assert.equal(n.probes, 0);
  for (let i = 0; i < 4; i++) assert.ok(n.probe());
  assert.equal(n.probe(), false, "a fifth probe is not sent");
  n.push(Uint8Array.of(IAC, WILL, TM));
  assert.equal(n.probes, 3);
  assert.equal(seen.sent.length, 5, "a probe's answer is not answered");
});

Deno.test("Negotiation.spoke is false for a client that never sends IAC", () => {
  const { n, seen } = machine();
  n.push(Uint8Array.from(text("hello\n")));
  assert.equal(n.spoke, false);
  assert.deepEqual(seen.answered, []);
});
