import assert from "node:assert/strict";

Deno.test("tools/soak.ts: a short mixed-population run loses nothing and closes everything", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-run",
      "--allow-read",
      "--allow-write",
      new URL("../tools/soak.ts", import.meta.url).pathname,
      "--seconds",
      "3",
    ],
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 0, text);
  assert.match(text, /^ {2}lost {12}0$/m);
  assert.match(text, /^ {2}open at end {5}0 connections$/m);
  const [, delivered, expected] = /delivered +(\d+) of (\d+)/.exec(text)!;
  assert.ok(Number(expected) > 1000, `expected deliveries: ${expected}`);
  assert.equal(delivered, expected);
});
