// server.ts as a subprocess, the way people run it: flags, errors, the console on a
// pipe, and signals.

import assert from "node:assert/strict";
import { clientProcess, joinAs, LineClient, ServerProcess } from "./helpers.ts";

Deno.test("server.ts --port 0 prints the real port first and serves it", async () => {
  await using server = new ServerProcess(["--host", "127.0.0.1", "--port", "0"]);
  const port = await server.port();
  assert.ok(port > 0);
  assert.match(server.received[0], /^listening on 127\.0\.0\.1:\d+$/);
  await using a = await joinAs(port, "alice");
  await server.expect(/^\S+Z join alice from 127\.0\.0\.1:\d+ \(1 online\)$/);
  await a.send("/quit");
  await a.expectClosed();
  await server.expect(/ leave alice \(quit\) \(0 online\)$/);
});

Deno.test("server.ts HOST PORT positional form works (seed 000)", async () => {
  await using server = new ServerProcess(["127.0.0.1", "0"]);
  assert.ok((await server.port()) > 0);
});

Deno.test("server.ts --help and --version print and exit 0", async () => {
  for (
    const [flag, pattern] of [["--help", /usage: chat-server/], [
      "--version",
      /^chat-server \d+\.\d+\.\d+/,
    ]] as const
  ) {
    const server = new ServerProcess([flag]);
    await server.closeStdin();
    const { code } = await server.exit();
    assert.equal(code, 0);
    assert.match(server.received.join("\n"), pattern);
  }
});

Deno.test("server.ts rejects bad arguments with one line and exit code 1", async (t) => {
  const cases: [string[], RegExp][] = [
    [
      ["--port", "99999"],
      /^chat-server: invalid port "99999": use a number from 0 to 65535 \(try --help\)\n$/,
    ],
    [["--port", "abc"], /^chat-server: invalid port "abc"/],
    [["--bogus"], /^chat-server: Unknown option '--bogus' \(try --help\)\n$/],
    [["--max-line", "0"], /^chat-server: invalid --max-line "0"/],
    [["a", "1", "extra"], /^chat-server: unexpected argument "extra" \(try --help\)\n$/],
    [["--irc-tls-port", "0"], /^chat-server: --irc-tls-port needs --tls-cert and --tls-key/],
    [["--irc-name", "x"], /^chat-server: --irc-name needs --irc-port or --irc-tls-port/],
    [["--irc-port", "0", "--irc-name", "a b"], /^chat-server: invalid --irc-name "a b"/],
  ];
  for (const [args, pattern] of cases) {
    await t.step(args.join(" "), async () => {
      const server = new ServerProcess(args);
      await server.closeStdin();
      const { code, stderr } = await server.exit();
      assert.equal(code, 1);
      assert.match(stderr, pattern);
      assert.equal(stderr.trim().split("\n").length, 1);
    });
  }
});

Deno.test("server.ts and client.ts check every number they take, with one line of their own", async (t) => {
  const server: [string[], string][] = [
    [["--burst", "0.5"], 'invalid --burst "0.5": use a whole number from 1 to 1000000'],
    [["--max-line", "0.5"], 'invalid --max-line "0.5": use a whole number from 64 to 1048576'],
    [
      ["--max-line", "99999999999"],
      'invalid --max-line "99999999999": use a whole number from 64 to 1048576',
    ],
    [
      ["--rate", "-3"],
      'invalid --rate "-3": use a whole number from 1 to 1000000, or 0 to turn it off',
    ],
    [
      ["--idle-timeout", "1e9"],
      'invalid --idle-timeout "1e9": use a number from 0.1 to 604800, or 0 to turn it off',
    ],
    [
      ["--history", "10001"],
      'invalid --history "10001": use a whole number from 1 to 10000, or 0 to turn it off',
    ],
    [["--port", "-1"], 'invalid port "-1": use a number from 0 to 65535'],
    [["--port=-1"], 'invalid port "-1": use a number from 0 to 65535'],
    [["127.0.0.1", "-1"], 'invalid port "-1": use a number from 0 to 65535'],
  ];
  for (const [args, message] of server) {
    await t.step(`server.ts ${args.join(" ")}`, async () => {
      const child = new ServerProcess(args);
      await child.closeStdin();
      const { code, stderr } = await child.exit();
      assert.equal(code, 1);
      assert.equal(stderr, `chat-server: ${message} (try --help)\n`);
    });
  }
  const client: [string[], string][] = [
    [["--port", "-1"], 'invalid port "-1": use a number from 1 to 65535'],
    [["--port", "0"], 'invalid port "0": use a number from 1 to 65535'],
    [["127.0.0.1", "0"], 'invalid port "0": use a number from 1 to 65535'],
    [["127.0.0.1", "1", "extra"], 'unexpected argument "extra"'],
  ];
  for (const [args, message] of client) {
    await t.step(`client.ts ${args.join(" ")}`, async () => {
      const { code, stderr } = await clientProcess(args).output();
      assert.equal(code, 1);
      assert.equal(new TextDecoder().decode(stderr), `chat-client: ${message} (try --help)\n`);
    });
  }
});

Deno.test("server.ts reports a port in use with one line and exit code 1", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  const server = new ServerProcess(["--host", "127.0.0.1", "--port", String(port)]);
  await server.closeStdin();
  const { code, stderr } = await server.exit();
  assert.equal(code, 1);
  assert.equal(stderr, `chat-server: port ${port} is already in use\n`);
});

Deno.test("server.ts console: lines go to everyone, /users, /kick, and exit stops it", async () => {
  await using server = new ServerProcess(["--host", "127.0.0.1", "--port", "0"]);
  const port = await server.port();
  await using a = await joinAs(port, "alice");
  await using b = await joinAs(port, "bob");
  await server.type("hello from the operator");
  await a.expect("[server] hello from the operator");
  await b.expect("[server] hello from the operator");
  await server.type("/users");
  await server.expect("console: 2 online: alice, bob");
  await server.type("/kick bob bye now");
  await b.expect("* kicked by the server: bye now");
  await b.expectClosed();
  await server.type("exit");
  await a.expect("* server shutting down");
  await a.expectClosed();
  assert.equal((await server.exit()).code, 0);
});

Deno.test("server.ts keeps running when its stdin ends", async () => {
  await using server = new ServerProcess(["--host", "127.0.0.1", "--port", "0"]);
  const port = await server.port();
  await server.closeStdin();
  await using a = await joinAs(port, "alice");
  await using b = await joinAs(port, "bob");
  await a.send("still up");
  await b.expect("alice: still up");
});

Deno.test("server.ts SIGTERM with clients connected: told, flushed, exit 0", async () => {
  await using server = new ServerProcess(["--host", "127.0.0.1", "--port", "0"]);
  const port = await server.port();
  await using a = await joinAs(port, "alice");
  await using b = await LineClient.connect(port);
  await b.expect("choose a name:");
  server.child.kill("SIGTERM");
  await a.expect("* server shutting down");
  await a.expectClosed();
  await b.expect("* server shutting down");
  await b.expectClosed();
  assert.equal((await server.exit()).code, 0);
});

Deno.test("server.ts SIGINT stops it cleanly, exit 0", async () => {
  await using server = new ServerProcess(["--host", "127.0.0.1", "--port", "0"]);
  const port = await server.port();
  await using a = await joinAs(port, "alice");
  server.child.kill("SIGINT");
  await a.expect("* server shutting down");
  await a.expectClosed();
  assert.equal((await server.exit()).code, 0);
});
