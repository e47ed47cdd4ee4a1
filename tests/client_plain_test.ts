// client.ts end to end in plain line mode (stdin and stdout are pipes) against the
// real server in-process: flags, piped input, naming, refused connections, and the
// server going away.

import assert from "node:assert/strict";
import { joinAs, LineClient, PipedClient, startServer } from "./helpers.ts";
import { VERSION } from "../lib/protocol/version.ts";

const encoder = new TextEncoder();

/** Runs the client with `input` on stdin (then EOF) and waits for it to exit. */
async function runWith(args: string[], input: string) {
  await using client = new PipedClient(args);
  await client.write(input);
  await client.closeStdin();
  return await client.exit();
}

function assertPlain(stdout: string): void {
  assert.ok(!stdout.includes("\x1b"), `no escape sequences in:\n${stdout}`);
}

Deno.test("client.ts piped: /users then /quit prints the events and exits 0", async () => {
  await using server = startServer();
  const { code, stdout, stderr } = await runWith(
    ["--name", "bot", "--port", String(server.addr.port)],
    "/users\n/quit\n",
  );
  assert.equal(code, 0, stderr);
  assert.equal(stderr, "");
  assertPlain(stdout);
  assert.match(stdout, /^\d\d:\d\d \* welcome to linechat /m);
  assert.match(stdout, /^\d\d:\d\d \* welcome, bot! /m);
  assert.match(stdout, /^\d\d:\d\d \* 1 online: bot$/m);
  assert.match(stdout, /^\d\d:\d\d \* goodbye$/m);
});

Deno.test("client.ts piped: lines go out in order and stdin EOF disconnects cleanly", async () => {
  await using server = startServer();
  await using obs = await joinAs(server.addr.port, "obs");
  const { code, stdout } = await runWith(
    ["--name", "bot", "--port", String(server.addr.port)],
    "one\ntwo\n/pm obs three\nfour",
  );
  assert.equal(code, 0);
  assertPlain(stdout);
  await obs.expect("bot: one");
  await obs.expect("bot: two");
  await obs.expect("[pm from bot] three");
  await obs.expect("bot: four"); // a last line without a newline still counts
  await obs.expect("* bot left");
  assert.match(stdout, /^\d\d:\d\d <bot> one$/m, "own messages are shown");
  assert.match(stdout, /^\d\d:\d\d \[pm to obs\] three$/m, "the server's confirmation arrived");
});

Deno.test("client.ts piped: 200 lines under the default flood limits all arrive, in order", async () => {
  await using server = startServer();
  await using obs = await joinAs(server.addr.port, "obs");
  const lines = Array.from({ length: 200 }, (_, i) => `line ${i + 1}`);
  const started = Date.now();
  const run = runWith(["--name", "bot", "--port", String(server.addr.port)], lines.join("\n"));
  // 20 at once, then 5 a second: 36 s at the server's pace; the client stays a little under it.
  const got = await obs.collectUntil("bot: line 200", 60_000);
  const { code, stdout } = await run;
  assert.equal(code, 0);
  assert.deepEqual(got.filter((l) => l.startsWith("bot: ")), lines.map((l) => `bot: ${l}`));
  assert.ok(!stdout.includes("slow down"), "the server dropped nothing");
  assert.ok(Date.now() - started < 60_000);
});

Deno.test("client.ts piped: replies to the last lines arrive before it exits", async () => {
  await using server = startServer();
  const { code, stdout } = await runWith(
    ["--name", "bot", "--port", String(server.addr.port)],
    "/pm nobody hi\n/users\n",
  );
  assert.equal(code, 0);
  assert.match(stdout, /! no user named nobody is online/);
  assert.match(stdout, /\* 1 online: bot/);
});

Deno.test("client.ts piped: usage errors and /help are answered locally", async () => {
  await using server = startServer();
  const { code, stdout } = await runWith(
    ["--name", "bot", "--port", String(server.addr.port)],
    "/pm\n/help\n/frob\n",
  );
  assert.equal(code, 0);
  assert.match(stdout, /! usage: \/pm USER\|#ROOM \[TEXT\]/);
  assert.match(stdout, /commands \(case-insensitive/);
  assert.match(stdout, /! unknown command \/frob \(try \/help\)/);
});

Deno.test("client.ts piped: /quit, /disconnect, /exit and exit each leave with code 0", async (t) => {
  await using server = startServer();
  for (const line of ["/quit", "/disconnect", "/exit", "exit"]) {
    await t.step(line, async () => {
      await using client = new PipedClient(["--name", "bot", "--port", String(server.addr.port)]);
      await client.write(`${line}\n`);
      // stdin stays open: the command itself must end the session.
      await client.expect("goodbye", 10_000);
      assert.equal((await client.exit()).code, 0);
    });
  }
});

Deno.test("client.ts piped: without --name the first line is the name; a taken one asks again", async () => {
  await using server = startServer();
  await using obs = await joinAs(server.addr.port, "obs");
  const { code, stdout } = await runWith(
    ["--port", String(server.addr.port)],
    "obs\ncarol\nhi there\n",
  );
  assert.equal(code, 0);
  assert.match(stdout, /\* choose a name:/);
  assert.match(stdout, /! the name obs is taken; choose another/);
  assert.match(stdout, /\* welcome, carol!/);
  await obs.expect("carol: hi there");
});

Deno.test("client.ts piped: a refused --name takes the next line as the name", async () => {
  await using server = startServer();
  await using _obs = await joinAs(server.addr.port, "obs");
  const { code, stdout } = await runWith(
    ["--name", "obs", "--port", String(server.addr.port)],
    "obs2\n/users\n",
  );
  assert.equal(code, 0);
  assert.match(stdout, /! the name obs is taken/);
  assert.match(stdout, /\* 2 online: obs, obs2/);
});

Deno.test("client.ts piped: a refused --name with no more input exits 1 with the reason", async () => {
  await using server = startServer();
  await using _obs = await joinAs(server.addr.port, "obs");
  const { code, stderr } = await runWith(["--name", "obs", "--port", String(server.addr.port)], "");
  assert.equal(code, 1);
  assert.equal(stderr, "chat-client: the name obs is taken; choose another\n");
});

Deno.test("client.ts piped: an invalid --name shows the server's reason", async () => {
  await using server = startServer();
  const { code, stdout, stderr } = await runWith(
    ["--name", "server", "--port", String(server.addr.port)],
    "",
  );
  assert.equal(code, 1);
  assert.match(stdout, /! invalid name: "server" is reserved/);
  assert.equal(stderr, 'chat-client: invalid name: "server" is reserved\n');
});

Deno.test("client.ts piped: an --auto-name server's name is shown (seed 001)", async () => {
  await using server = startServer({ autoName: true });
  const { code, stdout } = await runWith(["--port", String(server.addr.port)], "/users\n");
  assert.equal(code, 0);
  assert.match(stdout, /\* you are guest-1 \(change it with \/nick NAME/);
  assert.match(stdout, /\* 1 online: guest-1/);
});

Deno.test("client.ts piped, --auto-name server: the first line is the name", async () => {
  await using server = startServer({ autoName: true });
  await using obs = await LineClient.connect(server.addr.port);
  await obs.expect("* you are guest-1");
  const { code, stdout } = await runWith(["--port", String(server.addr.port)], "alice\nhello\n");
  assert.equal(code, 0);
  assert.match(stdout, /\* you are guest-\d+ /);
  assert.match(stdout, /\* you are now alice/);
  await obs.expect(/guest-\d+ is now alice/);
  await obs.expect("alice: hello");
  assert.ok(!obs.received.some((l) => /guest-\d+: alice/.test(l)), "the name is not a message");
});

Deno.test("client.ts piped, --auto-name server with --name: every line is chat", async () => {
  await using server = startServer({ autoName: true });
  await using obs = await LineClient.connect(server.addr.port);
  await obs.expect("* you are guest-1");
  const { code } = await runWith(["--port", String(server.addr.port), "--name", "bob"], "hi\n");
  assert.equal(code, 0);
  await obs.expect(/guest-\d+ is now bob/);
  await obs.expect("bob: hi");
});

Deno.test("client.ts piped: a wrong --password exits at once; no input line is tried", async () => {
  await using server = startServer({ password: "right", limits: { authDelayMs: 40 } });
  const { code, stdout, stderr } = await runWith(
    ["--port", String(server.addr.port), "--password", "nope"],
    "right\nalice\nhello\n",
  );
  assert.equal(code, 1);
  assert.equal(stderr, "chat-client: wrong password\n");
  assert.match(stdout, /! wrong password; try again/);
  assert.ok(!stdout.includes("welcome, "), "the input line was not sent as a password");
});

Deno.test("client.ts --no-reconnect piped: the server shuts down while connected", async () => {
  await using server = startServer();
  await using client = new PipedClient([
    "--name",
    "bot",
    "--port",
    String(server.addr.port),
    "--no-reconnect",
  ]);
  await client.expect("welcome, bot!", 10_000);
  await server.shutdown();
  const { code, stdout } = await client.exit();
  assert.equal(code, 0);
  assert.match(stdout, /\* server shutting down$/m);
});

Deno.test("client.ts piped: kicked by the server", async () => {
  await using server = startServer();
  await using client = new PipedClient(["--name", "bot", "--port", String(server.addr.port)]);
  await client.expect("welcome, bot!", 10_000);
  assert.ok(server.kick("bot", "flooding"));
  const { code, stdout } = await client.exit();
  assert.equal(code, 0);
  assert.match(stdout, /\* kicked by the server: flooding$/m);
});

Deno.test("client.ts piped: a connection dropped without bye exits 1 with the reason", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await using client = new PipedClient(["--port", String((listener.addr as Deno.NetAddr).port)]);
  {
    using conn = await listener.accept();
    await conn.write(encoder.encode("welcome to a fake server\r\n"));
    await client.expect("welcome to a fake server", 10_000);
  }
  const { code, stderr } = await client.exit();
  assert.equal(code, 1);
  assert.equal(stderr, "chat-client: connection closed by the server\n");
});

Deno.test("client.ts piped: SIGTERM leaves cleanly with /quit", async () => {
  await using server = startServer();
  await using obs = await joinAs(server.addr.port, "obs");
  await using client = new PipedClient(["--name", "bot", "--port", String(server.addr.port)]);
  await client.expect("welcome, bot!", 10_000);
  client.kill("SIGTERM");
  await client.expect("goodbye", 10_000);
  assert.equal((await client.exit()).code, 0);
  await obs.expect("* bot left: quit");
});

Deno.test("client.ts piped: a server that never closes after /quit does not keep it", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  await using client = new PipedClient(["--port", String((listener.addr as Deno.NetAddr).port)]);
  using conn = await listener.accept();
  await conn.write(encoder.encode('{"type":"mode","ts":0,"mode":"json","name":"bot"}\r\n'));
  await client.expect("you are bot", 10_000);
  await client.closeStdin();
  // The server reads /quit and stays silent; the client gives up waiting and exits 0.
  const { code } = await client.exit();
  assert.equal(code, 0);
  const lines = new TextDecoder().decode(await readAll(conn));
  assert.match(lines, /\/quit\r\n/);
});

/** Reads a connection to its end. */
async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  const out = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

Deno.test("client.ts cannot connect: one line on stderr and exit code 1", async (t) => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closed = String((listener.addr as Deno.NetAddr).port);
  listener.close();
  const cases: [string, string[], RegExp][] = [
    [
      "connection refused",
      ["--port", closed],
      new RegExp(`^chat-client: cannot connect to 127\\.0\\.0\\.1:${closed}: connection refused`),
    ],
    [
      "refused, positional HOST PORT",
      ["127.0.0.1", closed],
      new RegExp(`^chat-client: cannot connect to 127\\.0\\.0\\.1:${closed}: connection refused`),
    ],
    [
      "unknown host",
      ["--host", "no-such-host.invalid", "--port", "80"],
      /^chat-client: cannot connect to no-such-host\.invalid:80: unknown host no-such-host\.invalid$/,
    ],
  ];
  for (const [name, args, pattern] of cases) {
    await t.step(name, async () => {
      const { code, stdout, stderr } = await runWith(args, "");
      assert.equal(code, 1);
      assert.equal(stdout, "");
      assert.equal(stderr.split("\n").length, 2, `one line: ${stderr}`);
      assert.match(stderr.trimEnd(), pattern);
    });
  }
});

Deno.test("client.ts connects with the positional HOST PORT form (seed 000)", async () => {
  await using server = startServer();
  const { code, stdout } = await runWith(
    ["127.0.0.1", String(server.addr.port), "--name", "bot"],
    "/users\n",
  );
  assert.equal(code, 0);
  assert.match(stdout, /\* 1 online: bot/);
});

Deno.test("client.ts --help, --version and bad flags", async (t) => {
  const cases: [string[], number, RegExp, string][] = [
    [["--help"], 0, /^usage: chat-client \[--host HOST\]/m, "stdout"],
    [["--version"], 0, new RegExp(`^chat-client ${VERSION.replaceAll(".", "\\.")}\\n$`), "stdout"],
    [["--bogus"], 1, /^chat-client: Unknown option '--bogus' \(try --help\)\n$/, "stderr"],
    [["--port", "70000"], 1, /^chat-client: invalid port "70000"/, "stderr"],
    [["a", "1", "extra"], 1, /^chat-client: unexpected argument "extra"/, "stderr"],
  ];
  for (const [args, want, pattern, stream] of cases) {
    await t.step(args.join(" "), async () => {
      const { code, stdout, stderr } = await runWith(args, "");
      assert.equal(code, want);
      assert.match(stream === "stdout" ? stdout + "\n" : stderr, pattern);
    });
  }
  await t.step("--help lists every flag", async () => {
    const { stdout } = await runWith(["--help"], "");
    for (const flag of ["--host", "--port", "--name", "--no-color", "--help", "--version"]) {
      assert.ok(stdout.includes(flag), flag);
    }
  });
});
