// JSON requests end to end (a bot's input): text is never parsed as a command, every reply
// carries the request's id, bad requests get an error with the id, and every limit holds.
// Also the addressing form: NAME:TEXT is private or an error, never public by a typo.

import assert from "node:assert/strict";
import { parseRequest } from "../lib/protocol/commands.ts";
import type { ServerEvent } from "../lib/protocol/events.ts";
import { joinAs, LineClient, startServer } from "./helpers.ts";

type Ev = ServerEvent & { id?: number | string };

/** A named client in JSON mode. */
async function bot(port: number, name: string): Promise<LineClient> {
  const c = await joinAs(port, name);
  await c.send("/proto json");
  await c.expectEvent((e) => e.type === "mode");
  return c;
}

Deno.test("parseRequest() reads one form per command, text as it is", async (t) => {
  const cases: [string, unknown][] = [
    ['{"id":7,"cmd":"say","room":"#dev","text":"/quit now"}', {
      kind: "command",
      id: 7,
      command: { name: "sendall", text: "/quit now" },
      room: "#dev",
    }],
    ['{"cmd":"say","text":"fyi","notice":true}', {
      kind: "command",
      command: { name: "sendall", text: "fyi", notice: true },
    }],
    ['{"cmd":"pm","to":"bob","text":"fyi","notice":false}', {
      kind: "command",
      command: { name: "pm", to: "bob", text: "fyi" },
    }],
    ['{"cmd":"pm","to":"bob","text":"bob: \\"hi\\""}', {
      kind: "command",
      command: { name: "pm", to: "bob", text: 'bob: "hi"' },
    }],
    ['{"id":"a","cmd":"join","room":"dev"}', {
      kind: "command",
      id: "a",
      command: { name: "join", room: "#dev" },
    }],
    ['{"id":1,"cmd":"ban","target":"eve","duration":"10m","reason":"spam"}', {
      kind: "command",
      id: 1,
      command: { name: "ban", target: "eve", ms: 600_000, reason: "spam" },
    }],
    ['{"id":2,"cmd":"groupmessage","to":["a","b"],"text":"x"}', {
      kind: "command",
      id: 2,
      command: { name: "groupmessage", to: ["a", "b"], text: "x" },
    }],
    ["{not json", { kind: "error", code: "bad-request", message: "bad request: not valid JSON" }],
    ['{"id":3,"cmd":"frobnicate"}', {
      kind: "error",
      id: 3,
      code: "unknown-command",
      message: 'unknown cmd "frobnicate" (try "help")',
    }],
    ['{"id":4,"cmd":"pm","to":"bob"}', {
      kind: "error",
      id: 4,
      code: "bad-request",
      message: 'bad request (pm): "text" must be a string with text',
    }],
    ['{"id":5,"cmd":"say","txt":"hi"}', {
      kind: "error",
      id: 5,
      code: "bad-request",
      message: 'bad request (sendall): "text" must be a string with text; unknown field "txt"',
    }],
  ];
  for (const [line, want] of cases) {
    await t.step(line, () => assert.deepEqual(parseRequest(line), want));
  }
});

Deno.test("a JSON request's text is never a command or an address; replies carry its id", async () => {
  await using server = startServer({ limits: { ratePerSecond: 0 } });
  const port = server.addr.port;
  await using b = await bot(port, "bot");
  await using ann = await joinAs(port, "ann");
  await b.send('{"id":7,"cmd":"say","text":"/quit ann:hi"}');
  await ann.expect("bot: /quit ann:hi");
  const ok = await b.expectEvent((e) => e.type === "ok") as Ev;
  assert.equal(ok.id, 7);
  await b.send('{"id":"p1","cmd":"pm","to":"ann","text":"/nick x"}');
  await ann.expect("[pm from bot] /nick x");
  const sent = await b.expectEvent((e) => e.type === "sent") as Ev;
  assert.equal(sent.id, "p1");
  await b.send('{"id":8,"cmd":"whois","user":"nobody"}');
  const err = await b.expectEvent((e) => e.type === "error") as Ev;
  assert.deepEqual([err.id, err.type === "error" && err.code], [8, "unknown-user"]);
  await b.send('{"id":9,"cmd":"join","room":"#dev"}');
  const room = await b.expectEvent((e) => e.type === "room") as Ev;
  assert.equal(room.id, 9);
  await b.send('{"id":10,"cmd":"say","room":"#ops","text":"wrong room"}');
  const wrong = await b.expectEvent((e) => e.type === "error") as Ev;
  assert.deepEqual([wrong.id, wrong.type === "error" && wrong.code], [10, "not-in-room"]);
  await b.send("{oops");
  const bad = await b.expectEvent((e) => e.type === "error") as Ev;
  assert.deepEqual([bad.id, bad.type === "error" && bad.code], [undefined, "bad-request"]);
  await b.send('{"id":11,"cmd":"nope"}');
  const unknown = await b.expectEvent((e) => e.type === "error") as Ev;
  assert.deepEqual([unknown.id, unknown.type === "error" && unknown.code], [11, "unknown-command"]);
});

Deno.test("JSON requests keep every limit: operators, mutes, passwords, flood, --max-line", async () => {
  await using server = startServer({
    opPassword: "sesame",
    limits: { ratePerSecond: 1, burst: 8, maxLineBytes: 256, authDelayMs: 50 },
  });
  const port = server.addr.port;
  await using b = await bot(port, "bot");
  await b.send('{"id":1,"cmd":"kick","user":"bot"}');
  const no = await b.expectEvent((e) => e.type === "error") as Ev;
  assert.deepEqual([no.id, no.type === "error" && no.code], [1, "not-allowed"]);
  await b.send('{"id":2,"cmd":"op","password":"wrong"}');
  const wrong = await b.expectEvent((e) => e.type === "error") as Ev;
  assert.deepEqual([wrong.id, wrong.type === "error" && wrong.code], [2, "wrong-password"]);
  await b.send(`{"id":3,"cmd":"say","text":"${"x".repeat(300)}"}`);
  const long = await b.expectEvent((e) => e.type === "error") as Ev;
  assert.equal(long.type === "error" && long.code, "line-too-long");
  for (let i = 0; i < 10; i++) await b.send(`{"id":${100 + i},"cmd":"say","text":"x"}`);
  await b.expectEvent((e) => e.type === "error" && e.code === "flood");
});

Deno.test("a JSON request at the server's password prompt cannot get past it", async () => {
  await using server = startServer({ password: "letmein", limits: { authDelayMs: 10 } });
  await using c = await LineClient.connect(server.addr.port);
  await c.expect("password:");
  await c.send("/proto json");
  await c.expectEvent((e) => e.type === "mode");
  await c.send('{"id":1,"cmd":"say","text":"hi"}');
  const e = await c.expectEvent((e) => e.type === "error") as Ev;
  assert.deepEqual([e.id, e.type === "error" && e.code], [1, "no-password"]);
  await c.send('{"id":2,"cmd":"pass","password":"letmein"}');
  const prompt = await c.expectEvent((e) => e.type === "prompt") as Ev;
  assert.deepEqual([prompt.id, prompt.type === "prompt" && prompt.for], [2, "name"]);
});

Deno.test("NAME:TEXT is private when NAME is online, an error when not; NAME: TEXT is public", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using ann = await joinAs(port, "ann");
  await using bob = await joinAs(port, "bob");
  await ann.send("bobb:the secret");
  await ann.expect(
    "! no user named bobb is online (NAME:TEXT is private); // at the start sends the line to everyone as it is",
  );
  await ann.send("bob: did you see this?");
  await bob.expect("ann: bob: did you see this?");
  await ann.send("Note: lunch at 12:30, see http://example.com");
  await bob.expect("ann: Note: lunch at 12:30, see http://example.com");
  await ann.send("//bobb:not a secret");
  await bob.expect("ann: /bobb:not a secret");
  // Nothing meant for bobb went to everyone.
  assert.ok(!bob.received.some((l) => l.includes("the secret")));
});
