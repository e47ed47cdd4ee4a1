// Unit tests of one connection's telnet side over plain bytes, with the real line framer.

import assert from "node:assert/strict";
import { LineFramer } from "../lib/protocol/framing.ts";
import { TelnetLink } from "../lib/server/telnet/link.ts";
import {
  AYT,
  DO,
  DONT,
  ECHO,
  IAC,
  IP,
  NAWS,
  SB,
  SE,
  SGA,
  WILL,
  WONT,
} from "../lib/server/telnet/negotiation.ts";

const enc = new TextEncoder();

function link() {
  const lines: string[] = [];
  const written: number[][] = [];
  const events: string[] = [];
  const l = new TelnetLink((b) => {
    written.push([...b]);
    events.push("write");
  }, { maxLineBytes: 4096, names: () => ["carol"] });
  const sink = {
    line: (t: string) => {
      lines.push(t);
      events.push(`line ${t}`);
    },
    overlong: () => {},
  };
  l.framer = new LineFramer(4096, sink);
  l.lines = sink;
  const push = (...parts: (string | number[])[]) =>
    l.push(Uint8Array.from(parts.flatMap((p) => typeof p === "string" ? [...enc.encode(p)] : p)));
  return { l, lines, written, events, push };
}

Deno.test("TelnetLink never writes a telnet byte to a program ending lines with CRLF", async (t) => {
  for (
    const first of ["/proto json\r\n", "/PROTO json\r\nbot\r\n", '{"cmd":"nick","nick":"bot"}\r\n']
  ) {
    await t.step(JSON.stringify(first), () => {
      const { l, lines, written, push } = link();
      push(first);
      push("more\r\n");
      assert.ok(lines.length >= 2, lines.join("|"));
      assert.equal(l.hideNextLine(), false);
      assert.deepEqual(written, []);
    });
  }
});

/** The one proposal: character mode and the window size, hidden from terminals. */
const PROPOSAL = [
  0x1b,
  0x5d,
  ...[IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, NAWS],
  0x07,
  0x0d,
  0x0a,
];

Deno.test("TelnetLink never writes a telnet byte to a client ending lines with LF", () => {
  const { l, lines, written, push } = link();
  push("nc user\nhello\n");
  assert.deepEqual(lines, ["nc user", "hello"]);
  assert.equal(l.hideNextLine(), false, "its password prompt says it shows");
  assert.deepEqual(written, []);
});

Deno.test("TelnetLink proposes once, at the first CR-ended line, before that line goes in", () => {
  const { lines, written, events, push } = link();
  push("carol\r\n");
  assert.deepEqual(written, [PROPOSAL]);
  assert.deepEqual(events, ["write", "line carol"]);
  push("more\r\n");
  assert.deepEqual(lines, ["carol", "more"]);
  assert.equal(written.length, 1, "never again");
});

Deno.test("TelnetLink: a password prompt before anything came in carries the proposal", () => {
  const { l, written } = link();
  assert.equal(l.hideNextLine(), true);
  assert.deepEqual(written, [PROPOSAL]);
});

Deno.test("TelnetLink: a client that ignores the proposal at a password prompt gets nothing more", () => {
  const { l, lines, written, push } = link();
  assert.equal(l.hideNextLine(), true);
  push("secret\r\n");
  assert.deepEqual(lines, ["secret"]);
  assert.deepEqual(written, [PROPOSAL], "no WONT ECHO, no newline: it echoed the line itself");
  assert.equal(l.hideNextLine(), false, "the next prompt says it shows");
  assert.deepEqual(written, [PROPOSAL]);
});

Deno.test("TelnetLink goes to character mode when the client lets it echo", () => {
  const { l, lines, written, push } = link();
  push("carol\r\n");
  push([IAC, DO, ECHO, IAC, DO, SGA, IAC, WILL, NAWS, IAC, SB, NAWS, 0, 100, 0, 30, IAC, SE]);
  assert.ok(l.charMode);
  assert.ok(
    written.slice(1).every((w) => !w.includes(IAC)),
    "then only drawing (the input row, laid out for 100 columns); answers are not answered",
  );
  push("hi\x7f\x7fok\r\0");
  assert.deepEqual(lines, ["carol", "ok"]);
  const out = new TextDecoder().decode(l.outgoing(enc.encode("bob: hi\r\n")));
  assert.ok(out.startsWith("\x1b[?25l\r\x1b[2K\x1b[?25hbob: hi\r\n"), JSON.stringify(out));
  push([IAC, DONT, ECHO]);
  assert.equal(l.charMode, false, "echo refused later: line mode again");
});

Deno.test("TelnetLink in line mode hides a password with WILL ECHO, then WONT ECHO", () => {
  const { l, lines, written, push } = link();
  push([IAC, WILL, NAWS]); // speaks telnet (and is offered character mode)
  push([IAC, DONT, ECHO, IAC, DONT, SGA]); // ... which it refuses
  written.length = 0;
  assert.equal(l.hideNextLine(), true);
  push([IAC, DO, ECHO]);
  assert.equal(l.charMode, false);
  push("pw1\x7f2\r\n");
  assert.deepEqual(lines, ["pw2"]);
  assert.deepEqual(written, [[IAC, WILL, ECHO], [0x0d, 0x0a], [IAC, WONT, ECHO]]);
});

Deno.test("TelnetLink: IP drops the partial line, AYT is answered", () => {
  const { lines, written, push } = link();
  push("half", [IAC, IP], "whole\n");
  assert.deepEqual(lines, ["whole"]);
  written.length = 0;
  push([IAC, AYT]);
  assert.deepEqual(written.slice(-1), [[...enc.encode("[yes]\r\n")]]);
});

Deno.test("TelnetLink.probe() only probes a client that speaks telnet", () => {
  const { l, written, push } = link();
  assert.equal(l.probe(), false);
  push([IAC, WILL, NAWS]);
  written.length = 0;
  assert.equal(l.probe(), true);
  assert.deepEqual(written, [[IAC, DO, 6]]);
  assert.equal(l.probes, 1);
  push([IAC, WONT, 6]);
  assert.equal(l.probes, 0);
});

Deno.test("TelnetLink in character mode: the prompt is the active room; Ctrl+X joins the next", () => {
  const { l, lines, push } = link();
  l.rooms("#lobby", ["#lobby"]);
  push("carol\r\n");
  push([IAC, DO, ECHO, IAC, DO, SGA]);
  assert.ok(l.charMode);
  push([0x18]); // one room: nothing to switch to
  assert.deepEqual(lines, ["carol"]);
  l.rooms("#dev", ["#lobby", "#dev", "#ops"]);
  push([0x18]);
  l.rooms("#ops", ["#lobby", "#dev", "#ops"]);
  push([0x18]);
  l.rooms(undefined, []);
  push([0x18]);
  assert.deepEqual(lines, ["carol", "/join #lobby", "/join #dev"], "by name, round again");
});
