// Rooms, history and the social commands, end to end over real TCP: separate
// conversations with no leaks, topics, history replay, persistence with --data (also
// across kill -9), /me /away /back /whois /ignore /unignore /reply /motd.

import assert from "node:assert/strict";
import { joinAs, LineClient, ServerProcess, startServer } from "./helpers.ts";

Deno.test("rooms keep separate conversations; private and group messages cross rooms", async () => {
  await using server = startServer({ limits: { ratePerSecond: 0 } });
  const port = server.addr.port;
  await using a = await joinAs(port, "ann");
  await using b = await joinAs(port, "ben");
  await using c = await joinAs(port, "cat");
  await using d = await joinAs(port, "dan");

  // ann and ben join #dev and stay in #lobby: #lobby is not told.
  await a.send("/join #dev");
  await a.expect("* you are in #dev (1 here: ann)");
  await b.send("/JOIN dev");
  await b.expect("* you are in #dev (2 here: ann, ben)");
  await a.expect("* ben joined #dev (2 here)");

  await a.send("dev talk");
  await b.expect("ann: dev talk");
  await c.send("lobby talk");
  await d.expect("cat: lobby talk");
  // ann's active room is #dev: a #lobby line names its room.
  await a.expect("[#lobby] cat: lobby talk");
  await a.send("/me codes");
  await b.expect("* ann codes");

  // Markers: everything before them arrived; nothing crossed into a room it was not said in.
  await a.send("end of dev");
  await c.send("end of lobby");
  const inDev = await b.collectUntil("ann: end of dev");
  const inLobby = await d.collectUntil("cat: end of lobby");
  assert.ok(!inLobby.some((l) => l.includes("dev talk") || l.includes("codes")));
  assert.ok(!inDev.some((l) => l.includes("ann: lobby talk")));
  assert.ok(!c.received.some((l) => l.includes("ben joined")), "#lobby heard of #dev");

  await a.send("/users");
  await a.expect("* 2 in #dev (4 online): ann, ben");
  await c.send("/users");
  await c.expect("* 4 online: ann, ben, cat, dan");
  await c.send("/users #dev");
  await c.expect("* 2 in #dev (4 online): ann, ben");
  await c.send("/users *");
  await c.expect("* 4 online: ann, ben, cat, dan");

  await c.send("/pm ann across rooms");
  await a.expect("[pm from cat] across rooms");
  await a.send("/gm cat, dan hello lobby");
  await c.expect("[group from ann to cat, dan] hello lobby");
  await d.expect("[group from ann to cat, dan] hello lobby");

  // /msg #room speaks there without switching.
  await a.send("/msg #lobby from dev to lobby");
  await c.expect("ann: from dev to lobby");
  await a.send("still dev");
  await b.expect("ann: still dev");
  await c.send("/msg #dev hi");
  await c.expect("! you are not in #dev (/join #dev)");

  await a.send("/rooms");
  await a.expect("* 2 rooms (> active, + joined):");
  await a.expect("+ #lobby (4)");
  await a.expect("> #dev (2)");
  await c.send("/rooms");
  await c.expect("> #lobby (4)");
  await c.expect("  #dev (2)");
  await c.send("/whois ann");
  await c.expect(/^\* ann: in #dev, #lobby, here since/);

  // /join of a room you are in switches to it; no history again.
  await a.send("/join #lobby");
  await a.expect("* now talking in #lobby (4 here: ann, ben, cat, dan)");
  await b.send("dev again");
  await a.expect("[#dev] ben: dev again");

  // /part leaves one room; the one used last is active then.
  await b.send("/part #dev off to lunch");
  assert.equal(await b.expect("left #dev"), "* ben left #dev: off to lunch (1 here)");
  await a.expect("[#dev] * ben left #dev: off to lunch (1 here)");
  await b.send("/part");
  assert.equal(await b.expect("left #lobby"), "* ben left #lobby (3 here)");
  await b.expect("* you are in no room now: /join #ROOM to join one (/rooms lists them)");
  await b.send("anyone?");
  await b.expect(/^! you are in no room/);
  assert.ok(!c.received.some((l) => l.includes("anyone?")));
  await b.send("/part");
  await b.expect("! you are in no room");

  // dan shares #lobby and #dev with ann: one rename and one quit, not one per room.
  await a.send("/join #dev");
  await a.expect("* now talking in #dev");
  await d.send("/join #dev");
  await d.expect("* you are in #dev (2 here: ann, dan)");
  await a.send("/nick anne");
  await a.expect("* you are now anne");
  await a.send("/quit");
  await a.expectClosed();
  await d.send("/rooms");
  const seen = await d.collectUntil("* 2 rooms (> active, + joined):");
  assert.equal(seen.filter((l) => l.includes("ann is now anne")).length, 1, seen.join("\n"));
  assert.equal(seen.filter((l) => l.includes("anne left")).length, 1, seen.join("\n"));
  await d.expect("+ #lobby (2)");
  await d.expect("> #dev (1)");
  await c.send("/whois dan");
  await c.expect(/^\* dan: in #dev, #lobby, here since/);
  await b.send("/whois ben");
  await b.expect(/^\* ben: in no room, here since/);
});

Deno.test("a room per user cap, and a room's lines marked only for text viewers elsewhere", async () => {
  await using server = startServer({ limits: { maxRoomsPerUser: 3 } });
  const port = server.addr.port;
  await using a = await joinAs(port, "ann");
  await using bot = await LineClient.connect(port);
  await bot.send("/proto json");
  await bot.send("bot");
  await bot.expectEvent((e) => e.type === "named");
  await a.send("/join #one");
  await a.expect("you are in #one");
  await a.send("/join #two");
  await a.expect("you are in #two");
  await a.send("/join #three");
  await a.expect("! you are in 3 rooms, the most allowed; /part one first");
  await a.send("/join #one");
  await a.expect("* now talking in #one (1 here: ann)");

  // JSON: every room event carries its room; say with a room speaks there.
  await bot.send('{"cmd":"join","room":"#two"}');
  await bot.expectEvent((e) => e.type === "room" && e.room === "#two");
  await bot.send('{"cmd":"say","room":"#lobby","text":"to the lobby"}');
  await bot.send('{"cmd":"say","text":"to two"}');
  await a.expect("[#lobby] bot: to the lobby");
  await a.expect("[#two] bot: to two");
  await a.send("/msg #two back");
  const back = await bot.expectEvent((e) => e.type === "message");
  assert.deepEqual({ ...back, ts: 0 }, {
    type: "message",
    ts: 0,
    from: "ann",
    room: "#two",
    text: "back",
  });
  await bot.send('{"id":1,"cmd":"say","room":"#one","text":"x"}');
  const refused = await bot.expectEvent((e) => e.type === "error");
  assert.equal(refused.type === "error" && refused.code, "not-in-room");
  await bot.send('{"cmd":"part","room":"#two","reason":"done"}');
  const left = await bot.expectEvent((e) => e.type === "leave");
  assert.deepEqual({ ...left, ts: 0 }, {
    type: "leave",
    ts: 0,
    name: "bot",
    room: "#two",
    count: 2,
    members: 1,
    reason: "done",
  });
  const now = await bot.expectEvent((e) => e.type === "room");
  assert.equal(now.type === "room" && now.switched && now.room, "#lobby");
  await a.expect("[#two] * bot left #two: done (1 here)");
});

Deno.test("topics: shown, set for the room, listed by /rooms, shown to newcomers", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using a = await joinAs(port, "ann");
  await using b = await joinAs(port, "ben");
  await a.send("/join #rust");
  await a.expect("you are in #rust");
  await a.send("/topic");
  await a.expect("* #rust has no topic");
  await a.send("/topic borrow checker help");
  await a.expect("* ann set the topic of #rust: borrow checker help");
  await b.send("/rooms");
  await b.expect("* 2 rooms (> active, + joined):");
  await b.expect("> #lobby (2)");
  await b.expect("  #rust (1) borrow checker help");
  await b.send("/join #rust");
  await b.expect("* you are in #rust (2 here: ann, ben)");
  await b.expect("* topic: borrow checker help");
  await b.send("/topic");
  await b.expect("* topic of #rust: borrow checker help (set by ann)");
  await b.send("/join #bad room");
  await b.expect("! usage: /join #ROOM");
  await b.send("/join #b@d");
  await b.expect("! invalid room: a room name may only contain letters, digits, _, - and .");
});

Deno.test("history: newcomers get the room's last messages, in order, marked, in text and JSON", async () => {
  await using server = startServer({ limits: { historyLines: 5, ratePerSecond: 0 } });
  const port = server.addr.port;
  await using a = await joinAs(port, "ann");
  await using b = await joinAs(port, "ben");
  for (let i = 1; i <= 8; i++) await a.send(`msg ${i}`);
  await a.send("/me waves");
  await a.send("/pm ben never replayed");
  await b.expect("[pm from ann] never replayed");

  await using c = await joinAs(port, "cat");
  const lines = await c.collectUntil(/\[history \d\d:\d\d\] \* ann waves/);
  const history = lines.filter((l) => l.startsWith("[history "));
  assert.deepEqual(history.map((l) => l.replace(/^\[history \d\d:\d\d\] /, "")), [
    "ann: msg 5",
    "ann: msg 6",
    "ann: msg 7",
    "ann: msg 8",
    "* ann waves",
  ]);
  await c.send("/users");
  await c.expect("* 3 online");
  assert.ok(!c.received.some((l) => l.includes("never replayed")));

  await using bot = await LineClient.connect(port);
  await bot.send("/proto json");
  await bot.send("bot");
  const first = await bot.expectEvent((e) => e.type === "message");
  assert.equal(first.type === "message" && first.history, true);
  assert.equal(first.type === "message" && first.text, "msg 5");
  // Messages said in the same millisecond get later ts each, so ts can run a little ahead.
  assert.ok(first.ts <= Date.now() + 1000 && first.ts > Date.now() - 60_000);

  // Other rooms have their own history; joining one replays only its own.
  await a.send("/join #quiet");
  await a.expect("you are in #quiet");
  await a.send("only here");
  await b.send("/join #quiet");
  const quiet = await b.collectUntil("[history");
  assert.match(quiet.at(-1)!, /^\[history \d\d:\d\d\] ann: only here$/);
});

Deno.test("--history 0 keeps and replays nothing", async () => {
  await using server = startServer({ limits: { historyLines: 0 } });
  const port = server.addr.port;
  await using a = await joinAs(port, "ann");
  await a.send("not kept");
  await using b = await joinAs(port, "ben");
  await b.send("/users");
  const lines = await b.collectUntil("* 2 online");
  assert.ok(!lines.some((l) => l.includes("not kept")));
});

Deno.test("--data keeps history and topics across a restart and across kill -9", async () => {
  const dir = await Deno.makeTempDir();
  const data = `${dir}/chat.db`;
  try {
    {
      await using server = new ServerProcess([
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data",
        data,
      ]);
      const port = await server.port();
      await using a = await joinAs(port, "ann");
      await using b = await joinAs(port, "ben");
      await a.send("/topic kept topic");
      await b.expect("set the topic of #lobby: kept topic");
      await a.send("before restart");
      await b.expect("ann: before restart");
      server.child.kill("SIGTERM");
      assert.equal((await server.exit()).code, 0);
    }
    {
      await using server = new ServerProcess([
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data",
        data,
      ]);
      const port = await server.port();
      await using c = await joinAs(port, "cat");
      await c.expect("* topic of #lobby: kept topic (set by ann)");
      await c.expect(/^\[history \d\d:\d\d\] ann: before restart$/);
      await using d = await joinAs(port, "dan");
      // Every message someone has seen is stored; kill -9 right after loses none.
      for (let i = 0; i < 10; i++) await c.send(`durable ${i}`);
      await d.expect("cat: durable 9");
      server.child.kill("SIGKILL");
      await server.exit();
    }
    {
      await using server = new ServerProcess([
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data",
        data,
      ]);
      const port = await server.port();
      await using e = await joinAs(port, "eve");
      const lines = await e.collectUntil(/\] cat: durable 9$/);
      const durable = lines.filter((l) => / cat: durable \d$/.test(l));
      assert.equal(durable.length, 10);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("/me shows an action to the room", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using a = await joinAs(port, "ann");
  await using b = await joinAs(port, "ben");
  await a.send("/me waves");
  await b.expect("* ann waves");
  await a.send("/me");
  await a.expect("! usage: /me ACTION");
});

Deno.test("/away tells senders of private messages why; /back ends it; /whois shows it", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using a = await joinAs(port, "ann");
  await using b = await joinAs(port, "ben");
  await b.send("/away at lunch");
  await b.expect("* you are marked as away (at lunch); /back when you return");
  await a.send("/pm ben are you there?");
  await b.expect("[pm from ann] are you there?");
  await a.expect("[pm to ben] are you there?");
  await a.expect("* ben is away: at lunch");
  await a.send("/whois ben");
  await a.expect(/^\* ben: in #lobby, here since \d\d:\d\d, idle \d+ s, away: at lunch$/);
  await b.send("/back");
  await b.expect("* welcome back");
  await a.send("/whois ben");
  await a.expect(/^\* ben: in #lobby, here since \d\d:\d\d, idle \d+ s$/);
  await a.send("/pm ben back?");
  await a.expect("[pm to ben] back?");
  await a.send("/whois nobody");
  await a.expect("! no user named nobody is online");
  await b.send("/back");
  await b.expect("* you were not away");
  await b.send("/afk");
  await b.expect("* you are marked as away (away)");
});

Deno.test("/ignore: nothing from them reaches you, they are not told; /unignore undoes it", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using a = await joinAs(port, "ann");
  await using b = await joinAs(port, "ben");
  await using c = await joinAs(port, "cat");
  await a.send("/ignore ben");
  await a.expect("* you no longer see messages from ben (/unignore ben to undo)");
  await a.send("/ignore");
  await a.expect("* you ignore: ben");
  await b.send("public from ben");
  await b.send("/me acts");
  await b.send("/pm ann private from ben");
  await b.expect("[pm to ann] private from ben");
  await b.send("/gm ann, cat group from ben");
  await b.expect("[group to ann, cat] group from ben");
  await c.expect("[group from ben to ann, cat] group from ben");
  // Renaming does not get around it.
  await b.send("/nick benji");
  await b.expect("* you are now benji");
  await b.send("after rename");
  await c.expect("benji: after rename");
  await c.send("marker");
  const seen = await a.collectUntil("cat: marker");
  assert.deepEqual(seen.filter((l) => /ben|acts/.test(l)), ["* ben is now benji"]);
  await a.send("/unignore benji");
  await a.expect("* you see messages from benji again");
  await b.send("heard again");
  await a.expect("benji: heard again");
  await a.send("/unignore benji");
  await a.expect("! you are not ignoring benji");
  await a.send("/ignore ann");
  await a.expect("! you cannot ignore yourself");
});

Deno.test("/reply answers the last private message; two-step without text", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using a = await joinAs(port, "ann");
  await using b = await joinAs(port, "ben");
  await b.send("/reply hello?");
  await b.expect("! nobody has sent you a private message yet");
  await a.send("/pm ben ping");
  await b.expect("[pm from ann] ping");
  await b.send("/reply pong");
  await a.expect("[pm from ben] pong");
  await b.send("/r");
  await b.expect("* type your message to ann on the next line");
  await b.send("second pong");
  await a.expect("[pm from ben] second pong");
  await a.send("/nick annie");
  await b.expect("* ann is now annie");
  await b.send("/reply after rename");
  await a.expect("[pm from ben] after rename");
});

Deno.test("the message of the day is shown on joining and by /motd", async () => {
  await using server = startServer({ motd: ["Welcome to the LAN party!", "Be nice."] });
  const port = server.addr.port;
  await using a = await LineClient.connect(port);
  await a.send("ann");
  await a.expect("* welcome, ann!");
  await a.expect("- Welcome to the LAN party!");
  await a.expect("- Be nice.");
  await a.send("/motd");
  await a.expect("- Welcome to the LAN party!");
  await using plain = startServer();
  await using b = await joinAs(plain.addr.port, "ben");
  await b.send("/motd");
  await b.expect("* there is no message of the day");
});

Deno.test("server.ts --motd FILE shows the file's lines on joining", async () => {
  const file = await Deno.makeTempFile();
  try {
    await Deno.writeTextFile(file, "line one\n\x1b[31mline two\n\n");
    await using server = new ServerProcess(["--host", "127.0.0.1", "--port", "0", "--motd", file]);
    const port = await server.port();
    await using a = await joinAs(port, "ann");
    await a.expect("- line one");
    await a.expect("- line two");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("rooms above --announce-up-to members do not announce joins and leaves", async () => {
  await using server = startServer({ limits: { announceUpTo: 2 } });
  const port = server.addr.port;
  await using a = await joinAs(port, "ann");
  await using b = await joinAs(port, "ben");
  await a.expect("* ben joined (2 online)");
  const c = await joinAs(port, "cat");
  await c.close();
  await b.send("marker");
  const seen = await a.collectUntil("ben: marker");
  assert.ok(!seen.some((l) => l.includes("cat")), "a crowd of 3 is not told");
  await b.send("/quit");
  await b.expectClosed();
  await a.expect("* ben left: quit (1 online)"); // back to 2 with ben: told again
});
