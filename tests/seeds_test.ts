// Each seed description's own scenario (../shared/seeds/), walked through end to end
// against the real server over real TCP.

import assert from "node:assert/strict";
import type { MessageInfo } from "../lib/server/hub.ts";
import { joinAs, LineClient, startServer } from "./helpers.ts";

Deno.test("seed 000: name prompt, upper-case commands, two-step PM/GROUPMESSAGE, hooks", async () => {
  const seen: string[] = [];
  const messages: MessageInfo[] = [];
  const log: string[] = [];
  await using server = startServer({
    log: (l) => log.push(l),
    hooks: {
      connect: ({ address }) => seen.push(`connect ${address.split(":")[0]}`),
      message: (m) => void messages.push(m),
      disconnect: ({ name }) => seen.push(`disconnect ${name}`),
    },
  });
  const port = server.addr.port;
  await using alice = await joinAs(port, "alice");
  await using bob = await joinAs(port, "bob");
  await using carol = await LineClient.connect(port);
  await carol.expect("choose a name:");
  await carol.send("ALICE");
  await carol.expect("! the name ALICE is taken; choose another");
  await carol.expect("choose a name:");
  await carol.send("carol");
  await carol.expect("welcome, carol!");

  await alice.send("/USERS");
  await alice.expect("* 3 online: alice, bob, carol");
  await alice.send("/HELP");
  await alice.expect(/\/groupmessage USER1, USER2, \.\.\. \[TEXT\]/);

  await alice.send("/PM bob");
  await alice.expect("* type your message to bob on the next line");
  await alice.send("secret plan");
  await bob.expect("[pm from alice] secret plan");
  await alice.expect("[pm to bob] secret plan");

  await alice.send("/GROUPMESSAGE bob, carol");
  await alice.expect("* type your message to bob, carol on the next line");
  await alice.send("team meeting");
  await bob.expect("[group from alice to bob, carol] team meeting");
  await carol.expect("[group from alice to bob, carol] team meeting");

  await alice.send("/SENDALL");
  await alice.send("hello everyone");
  await bob.expect("alice: hello everyone");
  await carol.expect("alice: hello everyone");
  assert.ok(log.includes("message #lobby alice: hello everyone"), "shown on the console");

  await bob.send("/CHANGEUSERNAME robert");
  await bob.expect("* you are now robert");
  await alice.expect("* bob is now robert");
  await alice.send("/users");
  await alice.expect("* 3 online: alice, robert, carol");

  await carol.send("/DISCONNECT");
  await carol.expect("* goodbye");
  await carol.expectClosed();
  await alice.expect("* carol left: quit (2 online)");

  assert.deepEqual(messages.map((m) => `${m.kind} ${m.from}->${m.to} ${m.text}`), [
    "private alice->bob secret plan",
    "group alice->bob,carol team meeting",
    "public alice-> hello everyone",
  ]);
  assert.deepEqual(seen.slice(0, 3), [
    "connect 127.0.0.1",
    "connect 127.0.0.1",
    "connect 127.0.0.1",
  ]);
  assert.ok(seen.includes("disconnect carol"));
});

Deno.test("seed 001: generated names, join notices, /dm and /bc with quotes, /quit", async () => {
  await using server = startServer({ autoName: true });
  const port = server.addr.port;
  await using one = await LineClient.connect(port);
  await one.expect("* you are guest-1 (change it with /nick NAME; /help lists the commands)");
  await using two = await LineClient.connect(port);
  await two.expect("* you are guest-2");
  await one.expect("* guest-2 joined (2 online)");

  await one.send("/help");
  await one.expect("/disconnect");
  await two.send("/users");
  await two.expect("* 2 online: guest-1, guest-2");
  await one.send('/dm guest-2 "hello there"');
  await two.expect("[pm from guest-1] hello there");
  await two.send('/bc "hi all"');
  await one.expect("guest-2: hi all");
  await two.send("/nick zoe");
  await one.expect("* guest-2 is now zoe");
  await one.send("/quit");
  await one.expect("* goodbye");
  await one.expectClosed();
  await two.expect("* guest-1 left: quit (1 online)");
});

Deno.test("seed 002: unique name with retry, Bob:Hi, who, exit, server:register/who/exit", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using alice = await joinAs(port, "Alice");
  await using bob = await LineClient.connect(port);
  await bob.expect("choose a name:");
  await bob.send("server:register alice");
  await bob.expect("! the name alice is taken; choose another");
  await bob.send("server:register Bob");
  await bob.expect("welcome, Bob!");

  await alice.send("Bob:Hi Bob!");
  await bob.expect("[pm from Alice] Hi Bob!");
  await bob.send("server:who");
  await bob.expect("* 2 online: Alice, Bob");
  await bob.send("who");
  await bob.expect("* 2 online: Alice, Bob");
  await alice.send("server:exit");
  await alice.expectClosed();
  await bob.expect("* Alice left: quit (1 online)");
  await bob.send("who");
  await bob.expect("* 1 online: Bob");
  await bob.send("exit");
  await bob.expectClosed();
});

Deno.test("seed 003: lines go to everyone but the sender; the operator talks to all", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using a = await joinAs(port, "a");
  await using b = await joinAs(port, "b");
  await using c = await joinAs(port, "c");
  await a.send("ping from a");
  await b.expect("a: ping from a");
  await c.expect("a: ping from a");
  assert.equal(server.console("maintenance at noon"), undefined);
  for (const x of [a, b, c]) await x.expect("[server] maintenance at noon");
  // a never saw its own line: the next line it got was the operator's.
  assert.ok(!a.received.includes("a: ping from a"));
  // A client vanishing mid-chat does not hurt the server or the others.
  await c.close();
  await a.expect("* c left");
  await b.send("still here");
  await a.expect("b: still here");
  assert.equal(server.console("exit"), "stop");
  assert.equal(server.console("/quit"), "stop");
});

Deno.test("seed 004: /setname, no chat before a name, /private /all /allusers /cmd /quit", async () => {
  const log: string[] = [];
  await using server = startServer({ log: (l) => log.push(l) });
  const port = server.addr.port;
  await using john = await LineClient.connect(port);
  await john.expect("choose a name:");
  await john.send("/all hello?");
  await john.expect("! choose a name first (type a name, or /nick NAME)");
  await john.send("/allusers");
  await john.expect("! choose a name first");
  await john.send("/cmd");
  await john.expect("/help [COMMAND]");
  await john.send("/setname john");
  await john.expect("welcome, john!");
  await using mary = await joinAs(port, "mary");
  await john.send("/allusers");
  await john.expect("* 2 online: john, mary");
  await mary.send("/private john hi how r u");
  await john.expect("[pm from mary] hi how r u");
  await john.send("/all hello everyone");
  await mary.expect("john: hello everyone");
  await john.send("/quit");
  await john.expect("* goodbye");
  await john.expectClosed();
  await mary.expect("* john left");
  assert.ok(log.some((l) => /^join john from 127\.0\.0\.1:\d+ \(1 online\)$/.test(l)));
  assert.ok(log.some((l) => /^join mary from .* \(2 online\)$/.test(l)));
  assert.ok(log.includes("leave john (quit) (1 online)"));
});
