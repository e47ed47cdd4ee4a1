// The prompt state machine over plain data: a fake context records what the hub would do,
// fake peers record what clients are sent; no sockets.

import assert from "node:assert/strict";
import type { Command } from "../lib/protocol/commands.ts";
import { type ServerEvent } from "../lib/protocol/events.ts";
import { Client } from "../lib/server/hub/client.ts";
import { Delivery } from "../lib/server/hub/delivery.ts";
import { PromptMachine, type PromptsContext } from "../lib/server/hub/prompts.ts";
import { DEFAULT_LIMITS, type Limits } from "../lib/server/limits.ts";
import { JsonPeer } from "./hub_fakes.ts";

class FakePeer extends JsonPeer<ServerEvent & { id?: number }> {}

type Fake = Client & { peer: FakePeer };

/** No waiting between guesses, so answers come at once and no timer is left. */
const LIMITS: Limits = { ...DEFAULT_LIMITS, authDelayMs: 0, authMaxDelayMs: 0 };

function setup(limits = LIMITS) {
  const did: string[] = [];
  const ctx: PromptsContext = {
    limits,
    out: new Delivery(0, new Map()),
    password: "sesame",
    log: () => {},
    logError: (what) => did.push(`error ${what}`),
    who: (c) => c.name ?? c.peer.address,
    reclaim: () => did.push("reclaim"),
    handle: (_c, line) => did.push(`line ${line}`),
    command: (_c, cmd: Command) => did.push(`command ${cmd.name}`),
    rename: (_c, name, password) => did.push(`rename ${name} ${password}`),
    back: () => did.push("back"),
    admitted: () => did.push("admitted"),
    disconnect: (_c, reason) => did.push(`disconnect ${reason}`),
    failed: (_c, _err, what) => did.push(`failed ${what}`),
  };
  const client = new Client(new FakePeer(), limits, 0) as Fake;
  client.mode = "json";
  return { machine: new PromptMachine(ctx), did, client };
}

const types = (c: Fake) => c.peer.events.map((e) => e.type);

Deno.test("PromptMachine.atPasswordPrompt() routes each kind of line", async (t) => {
  const server = { for: "password", about: "server" } as const;
  const named = { for: "password", about: "name", name: "ann" } as const;
  const cases: [string, typeof server | typeof named, string, string[], string[]][] = [
    ["a name's empty line goes back", named, "  ", ["back"], []],
    ["the server's empty line does nothing", server, "", [], []],
    ["a name's password renames with it", named, "secret", ["rename ann secret"], []],
    ["the server's right password admits", server, "sesame", ["admitted"], []],
    ["/pass is the password", named, "/pass secret", ["rename ann secret"], []],
    ["/help runs", server, "/help", ["command help"], []],
    ["an unknown command is an error", server, "/nosuch", [], ["error"]],
    ["/me is refused", server, "/me waves", [], ["error"]],
  ];
  for (const [what, prompt, line, did, sent] of cases) {
    await t.step(what, () => {
      const s = setup();
      s.client.prompt = prompt;
      s.machine.atPasswordPrompt(s.client, prompt, line);
      assert.deepEqual(s.did, did);
      assert.deepEqual(types(s.client), sent);
    });
  }
});

Deno.test("PromptMachine.guess() says wrong, asks again, and closes after authTries", () => {
  const s = setup({ ...LIMITS, authTries: 2 });
  const answers: boolean[] = [];
  s.machine.guess(s.client, "server", "wrong password", () => false, (r) => answers.push(r));
  assert.deepEqual(answers, [false]);
  assert.equal(s.client.peer.events.at(-1)?.type, "error");
  s.machine.guess(s.client, "server", "wrong password", () => false, (r) => answers.push(r));
  assert.deepEqual(answers, [false]);
  assert.deepEqual(s.did, ["disconnect too many wrong passwords"]);
  assert.equal(types(s.client).at(-1), "bye");
});

Deno.test("PromptMachine.guess() gives up unchecked when the check is busy", () => {
  const s = setup();
  const answers: boolean[] = [];
  s.machine.guess(s.client, "op", "wrong operator password", () => undefined, (r) => {
    answers.push(r);
  });
  assert.deepEqual(answers, [false]);
  assert.equal(s.client.authFailures, 0);
});

Deno.test("PromptMachine.answering() sends ok for a request nothing answered", () => {
  const s = setup();
  s.machine.answering(s.client, 3, () => {});
  s.machine.answering(s.client, 4, () => s.machine.askName(s.client));
  assert.deepEqual(s.client.peer.events.map((e) => [e.type, e.id]), [["ok", 3], ["prompt", 4]]);
  assert.equal(s.client.request, undefined);
});

Deno.test("PromptMachine.async() holds input until the work is done, then releases it in order", async () => {
  const s = setup();
  let done!: (v: number) => void;
  const work = new Promise<number>((resolve) => done = resolve);
  s.machine.async(s.client, work, (v) => s.did.push(`then ${v}`));
  s.client.held!.push("a", "b");
  done(7);
  await work;
  await Promise.resolve();
  assert.deepEqual(s.did, ["then 7", "line a", "line b"]);
  assert.equal(s.client.held, undefined);
});

Deno.test("PromptMachine.hash() refuses as busy past maxHashes, and reclaims when idle", async () => {
  const s = setup({ ...LIMITS, maxHashes: 1 });
  let finish!: () => void;
  const first = s.machine.hash(s.client, () => new Promise<void>((r) => finish = r));
  assert.ok(first);
  assert.equal(s.machine.hash(s.client, () => Promise.resolve()), undefined);
  assert.equal(types(s.client).at(-1), "error");
  finish();
  await first;
  assert.deepEqual(s.did, ["reclaim"]);
});

Deno.test("PromptMachine.askPassword() asks only at a password prompt", () => {
  const s = setup();
  s.machine.askPassword(s.client);
  assert.deepEqual(types(s.client), []);
  s.client.prompt = { for: "password", about: "server" };
  s.machine.askPassword(s.client);
  assert.deepEqual(types(s.client), ["prompt"]);
});
