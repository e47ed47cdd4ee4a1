// End to end against the real ChatServer on port 0 over real TCP: names, every command
// and alias, telnet bytes, JSON mode, kick, hooks and shutdown.

import assert from "node:assert/strict";
import { COMMANDS } from "../lib/protocol/commands.ts";
import { joinAs, LineClient, startServer } from "./helpers.ts";

const enc = new TextEncoder();

Deno.test("ChatServer refuses invalid, reserved and duplicate names with the reason", async (t) => {
  await using server = startServer();
  await using alice = await joinAs(server.addr.port, "alice");
  await using c = await LineClient.connect(server.addr.port);
  await c.expect("choose a name:");
  const cases: [string, string][] = [
    ["bad name!", "! invalid name: a name may only contain letters, digits, _ and -"],
    ["x".repeat(25), "! invalid name: a name can be at most 24 characters"],
    ["Server", '! invalid name: "Server" is reserved'],
    ["everyone", '! invalid name: "everyone" is reserved'],
    ["/nick ALICE", "! the name ALICE is taken; choose another"],
    ["/setname", "! usage: /changeusername NAME"],
  ];
  for (const [line, reason] of cases) {
    await t.step(line, async () => {
      await c.send(line);
      await c.expect(reason);
      if (!line.startsWith("/setname")) await c.expect("choose a name:");
    });
  }
  await c.send("/nick carol");
  await c.expect("welcome, carol!");
  await alice.expect("* carol joined (2 online)");
  await c.send("/rename Alice");
  await c.expect("! the name Alice is taken; choose another");
  await c.send("/rename CAROL");
  await c.expect("* you are now CAROL");
});

Deno.test("ChatServer runs every command under every alias", async (t) => {
  await using server = startServer({ limits: { ratePerSecond: 0 } });
  const port = server.addr.port;
  await using a = await joinAs(port, "alice");
  await using b = await joinAs(port, "bob");
  await using c = await joinAs(port, "carol");
  for (const alias of ["help", ...COMMANDS.help.aliases]) {
    await t.step(`/${alias}`, async () => {
      await a.send(`/${alias.toUpperCase()}`);
      await a.expect("  /users");
    });
  }
  for (const alias of ["users", ...COMMANDS.users.aliases]) {
    await t.step(`/${alias}`, async () => {
      await a.send(`/${alias}`);
      await a.expect("* 3 online: alice, bob, carol");
    });
  }
  for (const alias of ["pm", ...COMMANDS.pm.aliases]) {
    await t.step(`/${alias}`, async () => {
      await a.send(`/${alias} bob via ${alias}`);
      await b.expect(`[pm from alice] via ${alias}`);
      await a.expect(`[pm to bob] via ${alias}`);
    });
  }
  for (const alias of ["groupmessage", ...COMMANDS.groupmessage.aliases]) {
    await t.step(`/${alias}`, async () => {
      await a.send(`/${alias} bob, carol via ${alias}`);
      await b.expect(`[group from alice to bob, carol] via ${alias}`);
      await c.expect(`[group from alice to bob, carol] via ${alias}`);
      await a.expect(`[group to bob, carol] via ${alias}`);
    });
  }
  for (const alias of ["sendall", ...COMMANDS.sendall.aliases]) {
    await t.step(`/${alias}`, async () => {
      await a.send(`/${alias} via ${alias}`);
      await b.expect(`alice: via ${alias}`);
      await c.expect(`alice: via ${alias}`);
    });
  }
  let current = "carol";
  for (const alias of ["changeusername", ...COMMANDS.changeusername.aliases]) {
    await t.step(`/${alias}`, async () => {
      const next = `c-${alias}`;
      await c.send(`/${alias} ${next}`);
      await c.expect(`* you are now ${next}`);
      await a.expect(`* ${current} is now ${next}`);
      current = next;
    });
  }
  for (const alias of ["disconnect", ...COMMANDS.disconnect.aliases]) {
    await t.step(`/${alias}`, async () => {
      await using d = await joinAs(port, `d-${alias}`);
      await d.send(`/${alias}`);
      await d.expect("* goodbye");
      await d.expectClosed();
      await a.expect(`* d-${alias} left: quit`);
    });
  }
});

Deno.test("ChatServer reports each unknown group member and still delivers to the rest", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using a = await joinAs(port, "alice");
  await using b = await joinAs(port, "bob");
  await a.send("/gm bob, nobody, ghost hi");
  await a.expect("! no user named nobody is online");
  await a.expect("! no user named ghost is online");
  await a.expect("[group to bob] hi");
  await b.expect("[group from alice to bob] hi");
  await a.send("/pm ghost hello");
  await a.expect("! no user named ghost is online");
  await a.send("/gm ghost hello");
  await a.expect("! no user named ghost is online");
  await a.expect("! nobody to send to");
});

Deno.test("ChatServer answers unknown commands and bad usage and keeps the connection", async () => {
  await using server = startServer();
  await using a = await joinAs(server.addr.port, "alice");
  await a.send("/frobnicate now");
  await a.expect("! unknown command /frobnicate (try /help)");
  await a.send("/pm");
  await a.expect("! usage: /pm USER|#ROOM [TEXT]");
  await a.send("/proto yaml");
  await a.expect("! usage: /proto text|json");
  await a.send("/kick bob");
  await a.expect("! not allowed: /kick is for operators");
  await a.send("/users");
  await a.expect("* 1 online: alice");
});

Deno.test("ChatServer two-step form: a command on the next line cancels the pending message", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using a = await joinAs(port, "alice");
  await using b = await joinAs(port, "bob");
  await a.send("/pm bob");
  await a.expect("next line");
  await a.send("/users");
  await a.expect("* 2 online");
  await a.send("public now");
  await b.expect("alice: public now");
  await a.send("/sendall");
  await a.send("");
  await a.expect("* nothing sent");
});

Deno.test("ChatServer speaks telnet: negotiation answered and removed, CRLF and CR NUL, CRLF out", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using bob = await joinAs(port, "bob");
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    // What a telnet client sends first: WILL/DO negotiation, then the name ended CR NUL.
    await conn.write(Uint8Array.of(0xff, 0xfb, 0x18, 0xff, 0xfd, 0x03, 0xff, 0xfb, 0x1f));
    await conn.write(Uint8Array.of(...enc.encode("tel"), 0xff, 0xf1, ...enc.encode("ly\r\0")));
    await bob.expect("* telly joined (2 online)");
    await conn.write(Uint8Array.of(0xff, 0xfa, 0x1f, 0, 80, 0, 24, 0xff, 0xf0));
    await conn.write(enc.encode("hi from\r\n"));
    await conn.write(enc.encode(" telnet\r\n"));
    await bob.expect("telly: hi from");
    await bob.expect("telly: telnet");
    await conn.write(enc.encode("/quit\r\n"));
    const bytes = await readAll(conn);
    // Character mode is offered (WILL ECHO, WILL SGA, DO NAWS) and TERMINAL-TYPE refused;
    // the client's DO SGA and WILL NAWS agree with the offer, so they get no answer of their
    // own. The client never agrees to ECHO: it stays in line mode, and the rest is text.
    const answers = [0xff, 0xfb, 0x01, 0xff, 0xfb, 0x03, 0xff, 0xfd, 0x1f, 0xff, 0xfe, 0x18];
    const at = bytes.findIndex((_, i) => answers.every((b, j) => bytes[i + j] === b));
    assert.ok(at > 0, "the negotiation is answered");
    const text = new TextDecoder().decode(
      Uint8Array.of(...bytes.subarray(0, at), ...bytes.subarray(at + answers.length)),
    );
    assert.ok(!bytes.some((b, i) => b === 0xff && (i < at || i >= at + answers.length)));
    assert.match(text, /^welcome to linechat .*\r\nchoose a name:\r\n\* welcome, telly!/);
    assert.ok(text.endsWith("* goodbye\r\n"));
    assert.ok(!/[^\r]\n/.test(text), "every line ends in CRLF");
  } finally {
    conn.close();
  }
});

Deno.test("ChatServer replaces invalid UTF-8 and strips escapes before anyone sees them", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using a = await joinAs(port, "alice");
  await using b = await joinAs(port, "bob");
  await a.sendRaw(
    Uint8Array.of(0xc3, 0x28, ...enc.encode(" \x1b[2J\x1b]0;owned\x07ok\u202e!\r\n")),
  );
  await b.expect("alice: \ufffd( ok!");
});

Deno.test("ChatServer discards an overlong line with an error and keeps going", async () => {
  await using server = startServer({ limits: { maxLineBytes: 100 } });
  const port = server.addr.port;
  await using a = await joinAs(port, "alice");
  await using b = await joinAs(port, "bob");
  await a.send("y".repeat(5000));
  await a.expect("! line too long (limit 100 bytes); it was discarded");
  await a.send("short");
  const lines = await b.collectUntil("alice: short");
  assert.ok(!lines.some((l) => l.includes("yyy")));
});

Deno.test("ChatServer JSON mode: typed events with sender, recipients, text and time", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using bot = await LineClient.connect(port);
  await bot.send("/proto json");
  const mode = await bot.expectEvent((e) => e.type === "mode");
  assert.deepEqual({ ...mode, ts: 0 }, {
    type: "mode",
    ts: 0,
    mode: "json",
    name: null,
    rate: 5,
    burst: 20,
  });
  await bot.send("/nick taken!");
  const bad = await bot.expectEvent((e) => e.type === "error");
  assert.equal(bad.type === "error" && bad.code, "name-invalid");
  await bot.expectEvent((e) => e.type === "prompt");
  await bot.send("bot");
  const named = await bot.expectEvent((e) => e.type === "named");
  assert.equal(named.type === "named" && named.name, "bot");

  await using alice = await joinAs(port, "alice");
  const join = await bot.expectEvent((e) => e.type === "join");
  assert.equal(join.type === "join" && join.name, "alice");
  await alice.send("hello bot");
  const msg = await bot.expectEvent((e) => e.type === "message");
  assert.equal(msg.type, "message");
  if (msg.type === "message") {
    assert.equal(msg.from, "alice");
    assert.equal(msg.text, "hello bot");
    assert.ok(Math.abs(Date.now() - msg.ts) < 60_000);
  }
  await alice.send("/pm bot psst");
  const pm = await bot.expectEvent((e) => e.type === "private");
  assert.deepEqual({ ...pm, ts: 0 }, {
    type: "private",
    ts: 0,
    from: "alice",
    to: "bot",
    text: "psst",
  });
  await bot.send("/gm alice hi back");
  const sent = await bot.expectEvent((e) => e.type === "sent");
  assert.deepEqual({ ...sent, ts: 0 }, {
    type: "sent",
    ts: 0,
    kind: "group",
    to: ["alice"],
    text: "hi back",
  });
  await bot.send("/users");
  const users = await bot.expectEvent((e) => e.type === "users");
  assert.deepEqual({ ...users, ts: 0 }, {
    type: "users",
    ts: 0,
    room: "#lobby",
    names: ["bot", "alice"],
    count: 2,
    online: 2,
  });
  await bot.send("/nope");
  const err = await bot.expectEvent((e) => e.type === "error");
  assert.equal(err.type === "error" && err.code, "unknown-command");
  await bot.send("/proto text");
  await bot.expect("* output mode is now text");
  await alice.send("back to text");
  await bot.expect("alice: back to text");
});

Deno.test("ChatServer.kick() and the console /kick disconnect a user with the reason", async () => {
  const log: string[] = [];
  await using server = startServer({ log: (l) => log.push(l) });
  const port = server.addr.port;
  await using a = await joinAs(port, "alice");
  await using b = await joinAs(port, "bob");
  await using c = await joinAs(port, "carol");
  server.console("/kick bob spamming");
  await b.expect("* kicked by the server: spamming");
  await b.expectClosed();
  await a.expect("* bob left: kicked (2 online)");
  assert.equal(server.kick("carol"), true);
  await c.expect("* kicked by the server");
  await c.expectClosed();
  assert.equal(server.kick("nobody"), false);
  server.console("/kick ghost");
  assert.ok(log.includes("console: no user named ghost is online"));
  server.console("/users");
  assert.ok(log.includes("console: 1 online: alice"));
});

Deno.test("ChatServer.shutdown() tells connected clients, flushes and closes them", async () => {
  const server = startServer();
  const port = server.addr.port;
  const a = await joinAs(port, "alice");
  const b = await LineClient.connect(port);
  await b.expect("choose a name:");
  await server.shutdown();
  await a.expect("* server shutting down");
  await a.expectClosed();
  await b.expect("* server shutting down");
  await b.expectClosed();
  assert.equal(server.connectionCount, 0);
  await assert.rejects(Deno.connect({ hostname: "127.0.0.1", port }));
  await a.close();
  await b.close();
});

Deno.test("ChatServer message hook can rewrite and drop messages", async () => {
  await using server = startServer({
    hooks: {
      message: (m) => m.text.includes("drop") ? false : m.text.replace("darn", "d**n"),
    },
  });
  const port = server.addr.port;
  await using a = await joinAs(port, "alice");
  await using b = await joinAs(port, "bob");
  await a.send("please drop this");
  await a.send("oh darn");
  const lines = await b.collectUntil("alice: oh d**n");
  assert.ok(!lines.some((l) => l.includes("drop")));
});

Deno.test("ChatServer survives a throwing hook and clients that vanish mid-broadcast", async () => {
  const log: string[] = [];
  await using server = startServer({
    log: (l) => log.push(l),
    hooks: {
      join: () => {
        throw new Error("hook bug");
      },
    },
  });
  const port = server.addr.port;
  await using a = await joinAs(port, "alice");
  const ghosts = await Promise.all([1, 2, 3].map((i) => joinAs(port, `ghost${i}`)));
  await a.send("/users");
  await a.expect("* 4 online");
  assert.ok(log.some((l) => l.startsWith("error in join hook: Error: hook bug")));
  // Close them while a broadcast is on its way to them.
  const sending = a.send("to everyone");
  await Promise.all(ghosts.map((g) => g.close()));
  await sending;
  for (let i = 0; i < 3; i++) await a.expect(/\* ghost\d left/);
  await a.send("/users");
  await a.expect("* 1 online: alice");
});

Deno.test("ChatServer disconnects a client whose output queue passes the cap", async () => {
  await using server = startServer({ limits: { maxOutboxBytes: 64 * 1024, ratePerSecond: 0 } });
  const port = server.addr.port;
  await using talker = await joinAs(port, "talker");
  await using reader = await joinAs(port, "reader");
  // A client that never reads: its queue grows until the cap, then it is dropped.
  const stalled = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    await stalled.write(enc.encode("stalled\r\n"));
    await talker.expect("* stalled joined");
    const line = "z".repeat(1000);
    let dropped = false;
    for (let i = 0; i < 5000 && !dropped; i++) {
      await talker.send(`${i} ${line}`);
      await reader.expect(`talker: ${i} `);
      dropped = talker.received.some((l) => l.startsWith("* stalled left"));
    }
    await talker.expect(/\* stalled left: output queue over 65536 bytes \(not reading\)/);
  } finally {
    stalled.close();
  }
});

async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: number[] = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) return Uint8Array.from(parts);
    parts.push(...buf.subarray(0, n));
  }
}
