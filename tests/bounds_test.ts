// Output that outgrows the outbox, and growth without bound (issue 10, parts 1 and 6), end to
// end over real TCP: poisoned history, huge listings, lines that grow when encoded, /purge and
// /topic -delete, caps on rooms and ignores, renames and their reach.

import assert from "node:assert/strict";
import { joinAs, LineClient, startServer } from "./helpers.ts";

const enc = new TextEncoder();
/** Flood control off, so a test can fill history quickly; everything else at its default. */
const FAST = { ratePerSecond: 0 };

/** A JSON client named `name`. */
async function joinJson(port: number, name: string): Promise<LineClient> {
  const c = await LineClient.connect(port);
  await c.send("/proto json");
  await c.send(name);
  await c.expectEvent((e) => e.type === "named");
  return c;
}

Deno.test("a line that grows past --max-line once encoded is refused, before anyone sees it", async () => {
  await using server = startServer({ limits: FAST });
  const port = server.addr.port;
  await using evil = await joinAs(port, "evil");
  await using viewer = await joinJson(port, "viewer");
  // 1,500 invalid bytes arrive as 1,500 bytes and would go out as 4,500 (U+FFFD each).
  // (0xFE, not 0xFF: 0xFF is telnet's IAC.)
  const bad = new Uint8Array(1500).fill(0xfe);
  await evil.sendRaw(new Uint8Array([...bad, 0x0d, 0x0a]));
  await evil.expect(/^! message too long once encoded \(4500 bytes, limit 4096\)/);
  // 2,100 quotes are 4,200 bytes in JSON.
  await evil.send('"'.repeat(2100));
  await evil.expect(/^! message too long once encoded \(4200 bytes, limit 4096\)/);
  await evil.send(`/topic ${'"'.repeat(2100)}`);
  await evil.expect(/^! topic too long once encoded/);
  await evil.send("ok");
  const seen = await viewer.collectUntil((l) => l.includes('"text":"ok"'));
  assert.equal(seen.length, 1, seen.join("\n"));
});

Deno.test("a poisoned history never locks newcomers out: the replay is bounded, newest first", async (t) => {
  const maxOutboxBytes = 64 * 1024;
  await using server = startServer({ limits: { ...FAST, maxOutboxBytes, historyLines: 50 } });
  const port = server.addr.port;
  await using evil = await joinAs(port, "evil");
  // 50 lines of 4,000 bytes as sent (1,330 invalid bytes each): 200 KB of replay, three times
  // the outbox.
  for (let i = 0; i < 50; i++) {
    const bad = new Uint8Array(1330).fill(0xfe);
    await evil.sendRaw(new Uint8Array([...enc.encode(`${i} `), ...bad, 0x0d, 0x0a]));
  }
  await evil.send("last one");
  // The history is in when the evil client's own next command is answered.
  await evil.send("/users");
  await evil.expect("* 1 online: evil");
  for (const mode of ["text", "json"] as const) {
    await t.step(`a ${mode} newcomer joins, gets the newest lines and stays`, async () => {
      const c = await LineClient.connect(port);
      try {
        if (mode === "json") await c.send("/proto json");
        await c.send(`new-${mode}`);
        const lines = await c.collectUntil((l) => l.includes("last one"));
        const omitted = lines.find((l) => /\d+ older messages of #lobby not shown/.test(l));
        assert.ok(omitted, `no notice of what was left out:\n${lines.join("\n").slice(0, 2000)}`);
        // One message is several rows in text mode (the server wraps at 80 columns).
        const replayed = lines.filter((l) => /^\[history|"history":true/.test(l));
        assert.ok(replayed.length >= 2 && replayed.length < 50, `${replayed.length} replayed`);
        const bytes = lines.reduce((n, l) => n + enc.encode(l).length + 2, 0);
        assert.ok(bytes < maxOutboxBytes / 2, `${bytes} bytes replayed`);
        // Newest first: the lines kept are the last ones said.
        assert.match(replayed.at(-2)!, /(: |":")49 \uFFFD/);
        await c.send(mode === "json" ? "/users" : "/users");
        await c.expect(mode === "json" ? '"type":"users"' : "* 2 online");
      } finally {
        await c.close();
      }
    });
  }
});

Deno.test("/rooms, /users and the room list on joining stay within one reply", async () => {
  const maxOutboxBytes = 32 * 1024;
  await using server = startServer({ limits: { ...FAST, maxOutboxBytes } });
  const port = server.addr.port;
  const squatters: LineClient[] = [];
  try {
    for (let i = 0; i < 12; i++) {
      const c = await joinAs(port, `sq${i}`);
      squatters.push(c);
      await c.send(`/join #room${i}`);
      await c.expect(`* you are in #room${i}`);
      await c.send(`/topic ${String(i).repeat(3000).slice(0, 3000)}`);
      await c.expect(`* sq${i} set the topic of #room${i}`);
    }
    await using viewer = await joinAs(port, "viewer");
    await viewer.send("/rooms");
    const lines = await viewer.collectUntil(/^ {2}\.\.\. and \d+ more$/);
    assert.match(lines[0], /^\* 13 rooms \(> active, \+ joined\):$/);
    await viewer.send("/users *");
    await viewer.expect("* 13 online:");
  } finally {
    for (const c of squatters) await c.close();
  }
});

Deno.test("/topic -delete removes a topic; /purge clears history and topic, on disk too", async (t) => {
  const dir = await Deno.makeTempDir();
  const dataFile = `${dir}/chat.db`;
  try {
    {
      await using server = startServer({ limits: FAST, dataFile, opPassword: "op" });
      const port = server.addr.port;
      await using alice = await joinAs(port, "alice");
      await using bob = await joinAs(port, "bob");
      await t.step("/topic -delete", async () => {
        await alice.send("/topic hello");
        await bob.expect("* alice set the topic of #lobby: hello");
        await alice.send("/topic -delete");
        await bob.expect("* alice removed the topic of #lobby");
        await bob.send("/topic");
        await bob.expect("* #lobby has no topic");
        await bob.send("/topic -delete");
        await bob.expect("! #lobby has no topic");
      });
      await t.step("/purge is for operators, and clears history and topic", async () => {
        await alice.send("/topic kept?");
        await bob.expect("* alice set the topic of #lobby: kept?");
        await alice.send("secret plans");
        await bob.expect("alice: secret plans");
        await bob.send("/purge");
        await bob.expect("! not allowed: /purge is for operators");
        await alice.send("/op op");
        await alice.expect("* you are now an operator");
        await alice.send("/purge #lobby history");
        await alice.expect("* the history of #lobby is gone");
        await alice.send("/topic -delete");
        await bob.expect("* alice removed the topic of #lobby");
        await alice.send("/topic after");
        await alice.send("/purge topic");
        await alice.expect("* the topic of #lobby is gone");
        await bob.expect("* alice removed the topic of #lobby");
        await using carol = await joinAs(port, "carol");
        await carol.send("/users");
        const lines = await carol.collectUntil("* 3 online");
        assert.ok(!lines.some((l) => l.includes("secret plans")), lines.join("\n"));
      });
    }
    await t.step("after a restart, the purged history and topic stay gone", async () => {
      await using server = startServer({ limits: FAST, dataFile });
      await using dave = await joinAs(server.addr.port, "dave");
      await dave.send("/topic");
      const lines = await dave.collectUntil("* #lobby has no topic");
      assert.ok(!lines.some((l) => l.includes("secret plans")), lines.join("\n"));
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("rooms are capped, and an empty room is forgotten with its topic", async () => {
  await using server = startServer({ limits: { ...FAST, maxRooms: 3 } });
  const port = server.addr.port;
  await using a = await joinAs(port, "a");
  await using b = await joinAs(port, "b");
  await a.send("/join #one");
  await a.expect("* you are in #one");
  await a.send("/topic remember me");
  await a.expect("* a set the topic of #one");
  await b.send("/join #two");
  await b.expect("* you are in #two");
  await b.send("/join #three");
  await b.expect("! too many rooms (limit 3); join one that exists (/rooms)");
  await a.send("/leave");
  await a.expect("* now talking in #lobby");
  await a.send("/rooms");
  const lines = await a.collectUntil("  #two (1)");
  assert.ok(!lines.some((l) => l.includes("#one")), lines.join("\n"));
  await b.send("/join #three");
  await b.expect("* you are in #three");
  await b.send("/part #two");
  await b.expect("* b left #two (0 here)");
  await a.send("/join #one");
  await a.expect("* you are in #one");
  await a.send("/topic");
  await a.expect("* #one has no topic");
});

Deno.test("/ignore is capped per user", async () => {
  await using server = startServer({ limits: { ...FAST, maxIgnore: 2 } });
  await using a = await joinAs(server.addr.port, "a");
  await a.send("/ignore x1");
  await a.send("/ignore x2");
  await a.send("/ignore x3");
  await a.expect("! you ignore 2 names already (the limit); /unignore one first");
  await a.send("/ignore x2");
  await a.expect("* you no longer see messages from x2");
});

Deno.test("a rename is told to the room and private partners only, and costs flood allowance", async (t) => {
  await using server = startServer();
  const port = server.addr.port;
  await using renamer = await joinAs(port, "renamer");
  await using roommate = await joinAs(port, "roommate");
  await using partner = await joinAs(port, "partner");
  await using stranger = await joinAs(port, "stranger");
  await partner.send("/join #elsewhere");
  await partner.expect("* you are in #elsewhere");
  await partner.send("/part #lobby");
  await partner.expect("* partner left #lobby");
  await stranger.send("/join #far");
  await stranger.expect("* you are in #far");
  await stranger.send("/part #lobby");
  await stranger.expect("* stranger left #lobby");
  await partner.send("/pm renamer hi");
  await renamer.expect("[pm from partner] hi");
  await t.step("told to the room and the private partner, not to strangers", async () => {
    await renamer.send("/nick renamed");
    await roommate.expect("* renamer is now renamed");
    await partner.expect("* renamer is now renamed");
    await stranger.send("/users *");
    const lines = await stranger.collectUntil("online:");
    assert.ok(!lines.some((l) => l.includes("is now")), lines.join("\n"));
  });
  await t.step("rename spam hits flood control long before the line burst", async () => {
    let renamed = 0;
    let refused = "";
    for (let i = 0; i < 10 && !refused; i++) {
      await renamer.send(`/nick spam${i}`);
      const line = await renamer.expect(/^(\* you are now|! slow down)/);
      if (line.startsWith("!")) refused = line;
      else renamed++;
    }
    // The burst is 20 lines; a rename counts as 5 of them.
    assert.ok(renamed <= 5, `${renamed} renames went through`);
    assert.match(refused, /^! slow down: /);
  });
});

Deno.test("/banned stays within one reply, newest first", async () => {
  await using server = startServer({
    limits: { ...FAST, maxOutboxBytes: 8192 },
    opPassword: "op",
  });
  await using op = await joinAs(server.addr.port, "op1");
  await op.send("/op op");
  await op.expect("* you are now an operator");
  for (let i = 0; i < 60; i++) await op.send(`/ban troll${i} spamming the room again and again`);
  await op.send("/banned");
  const lines = await op.collectUntil(/^\* \.\.\. and \d+ older$/);
  assert.ok(lines.some((l) => l.startsWith("* 60 banned:")), lines.join("\n"));
  const first = lines.findIndex((l) => l.includes("name troll"));
  assert.match(lines[first], /troll59/);
  await op.send("/users");
  await op.expect("* 1 online");
});
