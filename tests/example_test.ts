import assert from "node:assert/strict";
import { joinAs, LineQueue, pump } from "./helpers.ts";

Deno.test("examples/embed.ts runs a server whose hooks rewrite and drop messages", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", new URL("../examples/embed.ts", import.meta.url).pathname, "0"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const out = new LineQueue();
  const reading = pump(child.stdout, out);
  try {
    const listening = await out.expect(/^listening on /, 10_000);
    const port = Number(listening.split(":").pop());
    await using a = await joinAs(port, "alice");
    await using b = await joinAs(port, "bob");
    await out.expect("hook: bob joined");
    await a.send("STOP SHOUTING");
    await a.send("oh darn it");
    const lines = await b.collectUntil("alice: oh d**n it");
    assert.ok(!lines.some((l) => l.includes("SHOUTING")));
    await out.expect("hook: dropped shouting from alice");
  } finally {
    child.kill("SIGTERM");
    assert.equal((await child.status).code, 0);
    await reading;
  }
});
