// Calling an embedder's hooks over plain data: hooks that record or throw, a log kept in a list.

import assert from "node:assert/strict";
import { type ChatHooks, Hooks, type MessageInfo } from "../lib/server/hub/hooks.ts";

function setup(hooks: ChatHooks | undefined) {
  const log: string[] = [];
  return { hooks: new Hooks({ hooks, log: (line) => log.push(line) }), log };
}

const message: MessageInfo = { from: "ann", kind: "public", to: [], text: "hi" };

Deno.test("Hooks.call() passes the info and returns what the hook returned", () => {
  const seen: unknown[] = [];
  const { hooks, log } = setup({
    join: (info) => void seen.push(info),
    message: (info) => info.text.toUpperCase(),
  });
  assert.equal(hooks.call("join", { name: "ann", address: "192.0.2.1:5000" }), undefined);
  assert.deepEqual(seen, [{ name: "ann", address: "192.0.2.1:5000" }]);
  assert.equal(hooks.call("message", message), "HI");
  assert.deepEqual(log, []);
});

Deno.test("Hooks.call() returns undefined for a hook not given, or no hooks at all", () => {
  assert.equal(setup({}).hooks.call("message", message), undefined);
  assert.equal(setup(undefined).hooks.call("connect", { address: "192.0.2.1:5000" }), undefined);
});

Deno.test("Hooks.call() logs a hook that throws and returns undefined", () => {
  const { hooks, log } = setup({
    message: () => {
      throw new TypeError("bad hook");
    },
  });
  assert.equal(hooks.call("message", message), undefined);
  assert.deepEqual(log, ["error in message hook: TypeError: bad hook"]);
});
