// Operator niceties end to end: /kick feedback, /whois with the address, /users marking
// operators and away users, /quit REASON seen by others, short bans to the second.

import assert from "node:assert/strict";
import { untilText } from "../lib/server/moderation.ts";
import { joinAs, startServer } from "./helpers.ts";

async function opServer() {
  const server = startServer({ opPassword: "sesame", limits: { ratePerSecond: 0 } });
  const op = await joinAs(server.addr.port, "chief");
  await op.send("/op sesame");
  await op.expect("* you are now an operator");
  return { server, op };
}

Deno.test("/kick of someone in another room tells the operator: kicked NAME", async () => {
  const { server, op } = await opServer();
  await using _s = server;
  await using _o = op;
  await using bob = await joinAs(server.addr.port, "bob");
  await bob.send("/join #elsewhere");
  await bob.expect("* you are in #elsewhere");
  await op.send("/kick BOB spam");
  await op.expect("* kicked bob (spam)");
  await bob.expectClosed();
});

Deno.test("/whois shows operators the address, and others not", async () => {
  const { server, op } = await opServer();
  await using _s = server;
  await using _o = op;
  await using bob = await joinAs(server.addr.port, "bob");
  await op.send("/whois bob");
  await op.expect(/^\* bob: in #lobby, .*, from 127\.0\.0\.1$/);
  await bob.send("/whois chief");
  const line = await bob.expect("* chief: in #lobby");
  assert.ok(!line.includes("127.0.0.1"), line);
  await op.send("/proto json");
  await op.send("/whois bob");
  const e = await op.expectEvent((e) => e.type === "whois");
  assert.equal(e.type === "whois" && e.address, "127.0.0.1");
});

Deno.test("/users marks operators with @ and away users with (away), as fields in JSON", async () => {
  const { server, op } = await opServer();
  await using _s = server;
  await using _o = op;
  await using bob = await joinAs(server.addr.port, "bob");
  await using cat = await joinAs(server.addr.port, "cat");
  await bob.send("/away lunch");
  await bob.expect("* you are marked as away");
  await cat.send("/users");
  await cat.expect("* 3 online: @chief, bob (away), cat");
  await cat.send("/proto json");
  await cat.send("/users *");
  const e = await cat.expectEvent((e) => e.type === "users");
  assert.ok(e.type === "users");
  assert.deepEqual([e.names, e.operators, e.away], [["chief", "bob", "cat"], ["chief"], ["bob"]]);
});

Deno.test("/quit REASON shows the reason to others; a muted user's reason is not shown", async () => {
  const { server, op } = await opServer();
  await using _s = server;
  await using _o = op;
  await using bob = await joinAs(server.addr.port, "bob");
  await bob.send("/quit gone fishing");
  await bob.expect("* goodbye");
  await op.expect("* bob left: quit: gone fishing (1 online)");
  await using eve = await joinAs(server.addr.port, "eve");
  await op.send("/mute eve");
  await eve.expect("* you are muted");
  await eve.send("/quit buy cheap stuff");
  await op.expect("* eve left: quit (1 online)");
});

Deno.test("untilText() shows a short ban's end to the second, a long one to the minute", () => {
  const now = new Date(2026, 10, 30, 14, 0, 0).getTime();
  assert.equal(untilText(now + 90_000, now), "until 2026-11-30 14:01:30");
  assert.equal(untilText(now + 2 * 86_400_000, now), "until 2026-12-02 14:00");
  assert.equal(untilText(undefined, now), "for good");
});

Deno.test("/ban NAME 30s answers with its end to the second", async () => {
  const { server, op } = await opServer();
  await using _s = server;
  await using _o = op;
  await op.send("/ban troll 30s");
  await op.expect(/^\* banned troll until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
});
