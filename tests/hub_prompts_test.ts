// The prompt parts over plain data: prompts, held lines, secrets, guesses and hashes; no sockets.

import assert from "node:assert/strict";
import { type Command, parseInput } from "../lib/protocol/commands.ts";
import { Client, type Peer } from "../lib/server/hub.ts";
import {
  atPasswordPrompt,
  Guesses,
  Hashes,
  hold,
  looksLikeSecret,
  MAX_HELD_LINES,
  type PasswordPrompt,
  passwordPromptEvent,
  remember,
  SECRETS_REMEMBERED,
} from "../lib/server/hub/prompts.ts";
import { DEFAULT_LIMITS } from "../lib/server/limits.ts";

const peer: Peer = { address: "192.0.2.1:5000", write() {}, close() {} };
const client = () => new Client(peer, DEFAULT_LIMITS, 0);
const server: PasswordPrompt = { for: "password", about: "server" };
const named: PasswordPrompt = { for: "password", about: "name", name: "ann" };

function command(line: string): Command {
  const input = parseInput(line);
  assert.equal(input.kind, "command");
  return (input as { command: Command }).command;
}

Deno.test("passwordPromptEvent() asks for the server's password or a name's", () => {
  assert.deepEqual(passwordPromptEvent(server, 1), {
    type: "prompt",
    ts: 1,
    for: "password",
    about: "server",
    text: "password:",
  });
  assert.deepEqual(passwordPromptEvent(named, 2), {
    type: "prompt",
    ts: 2,
    for: "password",
    about: "name",
    name: "ann",
    text: "password for ann:",
  });
});

Deno.test("atPasswordPrompt() lets few commands through", async (t) => {
  const cases: [string, PasswordPrompt, string][] = [
    ["/pass s3cret", server, "password"],
    ["/pass s3cret", named, "password"],
    ["/help", server, "run"],
    ["/proto json", server, "run"],
    ["/quit", named, "run"],
    ["/nick ben", named, "run"],
    ["/nick ben", server, "refuse"],
    ["/users", server, "refuse"],
    ["/join #dev", named, "refuse"],
  ];
  for (const [line, prompt, does] of cases) {
    await t.step(`${line} at the ${prompt.about} prompt: ${does}`, () => {
      const action = atPasswordPrompt(prompt, command(line));
      assert.equal(action.do, does);
      if (action.do === "password") assert.equal(action.password, "s3cret");
    });
  }
  assert.deepEqual(atPasswordPrompt(server, command("/users")), {
    do: "refuse",
    text: "give the server password first (/pass PASSWORD)",
  });
  assert.deepEqual(atPasswordPrompt(named, command("/users")), {
    do: "refuse",
    text: "give the password for ann, /nick another name, or an empty line to go back",
  });
});

Deno.test("remember() keeps the last few secrets; looksLikeSecret() knows them", () => {
  const c = client();
  assert.equal(looksLikeSecret(c, "first"), false);
  remember(c, "first");
  assert.equal(looksLikeSecret(c, "first"), true);
  assert.equal(looksLikeSecret(c, "First"), false);
  for (let i = 0; i < SECRETS_REMEMBERED; i++) remember(c, `other-${i}`);
  assert.equal(looksLikeSecret(c, "first"), false);
  assert.equal(looksLikeSecret(c, `other-${SECRETS_REMEMBERED - 1}`), true);
  assert.ok(!c.secrets!.includes("other-0"), "digests, not the secrets");
});

Deno.test("hold() keeps lines only while a check runs, at most MAX_HELD_LINES", () => {
  const c = client();
  assert.equal(hold(c, "now"), false);
  c.held = [];
  for (let i = 0; i < MAX_HELD_LINES + 5; i++) assert.equal(hold(c, `l${i}`), true);
  assert.equal(c.held.length, MAX_HELD_LINES);
  assert.equal(c.held.at(-1), `l${MAX_HELD_LINES - 1}`);
});

Deno.test("Guesses counts by address and by secret, whichever has more", () => {
  const limits = {
    ...DEFAULT_LIMITS,
    authDelayMs: 1000,
    authMaxDelayMs: 8000,
    authLockoutAfter: 3,
    authSecretLockoutAfter: 2,
    authLockoutMs: 60_000,
  };
  const g = new Guesses(limits);
  assert.equal(g.failures("a", "server", 0), 0);
  assert.equal(g.fail("a", "server", 0), 1);
  assert.equal(g.fail("b", "server", 0), 2); // the secret has two, address b one
  assert.equal(g.failures("b", "op", 0), 1);
  assert.ok(g.lockedUntil("c", "server", 0) > 0, "the secret is locked out");
  assert.equal(g.lockedUntil("c", "op", 0), 0);
  assert.ok(g.delayMs(2) >= g.delayMs(1));
});

Deno.test("Hashes runs at most max at once and says when the last finishes", async () => {
  let idle = 0;
  const hashes = new Hashes(2, () => idle++);
  const gates: (() => void)[] = [];
  const work = () => new Promise<number>((resolve) => gates.push(() => resolve(1)));
  const first = hashes.start(work);
  const second = hashes.start(work);
  assert.ok(first && second);
  assert.equal(hashes.start(work), undefined);
  assert.equal(hashes.running, 2);
  gates[0]();
  await first;
  assert.equal(idle, 0);
  gates[1]();
  assert.equal(await second, 1);
  assert.equal(hashes.running, 0);
  assert.equal(idle, 1);
  assert.ok(new Hashes(0, () => {}).start(() => Promise.resolve(0)), "0: no bound");
});
