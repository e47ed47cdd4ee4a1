// Trust, end to end over real TCP and TLS: certificates made by openssl at test time, the
// join password and its throttle, operators and their commands, bans (by name and by
// address, across restarts), mutes, and owned names.

import assert from "node:assert/strict";
import { COMMAND_NAMES, isOperatorCommand } from "../lib/protocol/commands.ts";
import {
  clientProcess,
  joinAs,
  LineClient,
  LineQueue,
  pump,
  ServerProcess,
  startServer,
} from "./helpers.ts";

const FAST_AUTH = { authDelayMs: 40, authTries: 3 };

/** A CA and a server certificate for 127.0.0.1 and localhost, signed by it (openssl). */
async function makeCerts(
  dir: string,
  name = "ca",
): Promise<{ ca: string; cert: string; key: string }> {
  const run = async (...args: string[]) => {
    const out = await new Deno.Command("openssl", {
      args,
      cwd: dir,
      stdout: "null",
      stderr: "piped",
    })
      .output();
    if (!out.success) {
      throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(out.stderr)}`);
    }
  };
  await run(
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-days",
    "2",
    "-subj",
    `/CN=linechat test ${name}`,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.pem`,
  );
  await run(
    "req",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-subj",
    "/CN=localhost",
    "-keyout",
    `${name}-server.key`,
    "-out",
    `${name}-server.csr`,
  );
  await Deno.writeTextFile(
    `${dir}/${name}.ext`,
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
  );
  await run(
    "x509",
    "-req",
    "-in",
    `${name}-server.csr`,
    "-CA",
    `${name}.pem`,
    "-CAkey",
    `${name}.key`,
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}-server.pem`,
  );
  return {
    ca: `${dir}/${name}.pem`,
    cert: `${dir}/${name}-server.pem`,
    key: `${dir}/${name}-server.key`,
  };
}

/** A line client over TLS, trusting `ca`. */
async function tlsClient(port: number, ca: string): Promise<LineClient> {
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [await Deno.readTextFile(ca)],
  });
  return LineClient.over(conn);
}

/** Runs client.ts with stdin from `input`; returns its exit code and output. */
async function runClient(args: string[], input = "", env: Record<string, string> = {}) {
  const child = clientProcess(args, env);
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(input));
  await writer.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("TLS: clients chat over TLS, also beside plain TCP; the native client verifies", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { ca, cert, key } = await makeCerts(dir);
    const pem = { cert: await Deno.readTextFile(cert), key: await Deno.readTextFile(key) };
    await using server = startServer({ tls: { ...pem, port: 0 } });
    const tlsPort = server.tlsAddr!.port;
    assert.notEqual(tlsPort, server.addr.port);
    await using secure = await tlsClient(tlsPort, ca);
    await secure.expect("choose a name:");
    await secure.send("alice");
    await secure.expect("* welcome, alice!");
    await using plain = await joinAs(server.addr.port, "bob");
    await plain.send("hi over plain");
    await secure.expect("bob: hi over plain");
    await secure.send("hi over tls");
    await plain.expect("alice: hi over tls");

    // The native client, piped: --tls --ca chats; prints what it got; exits 0.
    const ok = await runClient(
      ["--tls", "--ca", ca, "--port", String(tlsPort), "--name", "carol"],
      "hello from carol\n/users\n",
    );
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /\* 3 online: alice, bob, carol/);
    await secure.expect("carol: hello from carol");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("TLS: a certificate that does not verify is a clear error, never plain text", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const good = await makeCerts(dir, "good");
    const other = await makeCerts(dir, "other");
    const pem = {
      cert: await Deno.readTextFile(good.cert),
      key: await Deno.readTextFile(good.key),
    };
    await using server = startServer({ tls: pem });
    const port = server.addr.port;
    const cases: [string, string[], RegExp][] = [
      [
        "a CA that did not sign it",
        ["--tls", "--ca", other.ca],
        /^chat-client: cannot connect to 127\.0\.0\.1:\d+ over TLS: the server's certificate does not verify \(.+\); for a private certificate pass --ca FILE\n$/,
      ],
      [
        "no CA for a private certificate",
        ["--tls"],
        /^chat-client: cannot connect to 127\.0\.0\.1:\d+ over TLS: the server's certificate does not verify/,
      ],
    ];
    for (const [what, args, pattern] of cases) {
      const r = await runClient([...args, "--port", String(port), "--name", "x"]);
      assert.equal(r.code, 1, what);
      assert.match(r.stderr, pattern, what);
      assert.equal(r.stdout, "", `${what}: nothing was shown in plain text`);
    }
    // Plain text to a TLS port gets nowhere either: the server never reads it as chat.
    await using raw = await LineClient.connect(port);
    await raw.send("plain name");
    await raw.expectClosed(5000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("server.ts --tls-cert --tls-key --tls-port serves both; bad flags are one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { ca, cert, key } = await makeCerts(dir);
    await using server = new ServerProcess([
      "--host",
      "127.0.0.1",
      "--port",
      "0",
      "--tls-cert",
      cert,
      "--tls-key",
      key,
      "--tls-port",
      "0",
    ]);
    const port = await server.port();
    const tlsLine = await server.expect(/^tls on 127\.0\.0\.1:\d+$/);
    const tlsPort = Number(tlsLine.split(":").pop());
    await using a = await joinAs(port, "plainuser");
    await using b = await tlsClient(tlsPort, ca);
    await b.send("tlsuser");
    await b.expect("welcome, tlsuser");
    await a.expect("* tlsuser joined");
    for (
      const [args, pattern] of [
        [["--tls-cert", cert], /--tls-cert and --tls-key go together/],
        [["--tls-port", "0"], /--tls-port needs --tls-cert and --tls-key/],
        [["--tls-cert", `${dir}/nope.pem`, "--tls-key", key], /cannot read --tls-cert/],
      ] as const
    ) {
      const bad = new ServerProcess([...args, "--port", "0"]);
      await bad.closeStdin();
      const { code, stderr } = await bad.exit();
      assert.equal(code, 1);
      assert.match(stderr, pattern);
      assert.equal(stderr.trim().split("\n").length, 1);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("join password: asked first, nothing else works, wrong tries are throttled then closed", async () => {
  await using server = startServer({ password: "open sesame", limits: FAST_AUTH });
  const port = server.addr.port;
  await using c = await LineClient.connect(port);
  await c.expect("password:");
  await c.send("/nick alice");
  await c.expect("! give the server password first (/pass PASSWORD)");
  await c.send("/help");
  await c.expect("/pass PASSWORD");
  let started = performance.now();
  await c.send("guess");
  await c.expect("! wrong password; try again");
  assert.ok(performance.now() - started >= 35, "the first wrong try waits the delay");
  await c.expect("password:");
  started = performance.now();
  await c.send("/pass guess again");
  // A line sent during the wait is held, not tried: it is handled after the answer.
  await c.send("open sesame");
  await c.expect("! wrong password; try again");
  assert.ok(performance.now() - started >= 75, "the second wrong try waits twice as long");
  await c.expect("choose a name:");
  await c.send("alice");
  await c.expect("* welcome, alice!");

  await using d = await LineClient.connect(port);
  for (const guess of ["a", "b", "c"]) await d.send(guess);
  await d.expect("* wrong password: too many tries", 5000);
  await d.expectClosed();
});

Deno.test("join password in JSON mode: the mode event says so and a prompt follows", async () => {
  await using server = startServer({ password: "pw", limits: FAST_AUTH });
  await using bot = await LineClient.connect(server.addr.port);
  await bot.send("/proto json");
  const mode = await bot.expectEvent((e) => e.type === "mode");
  assert.equal(mode.type === "mode" && mode.password, true);
  const prompt = await bot.expectEvent((e) => e.type === "prompt");
  assert.equal(prompt.type === "prompt" && prompt.for, "password");
  await bot.send("/pass pw");
  const named = await bot.expectEvent((e) => e.type === "prompt");
  assert.equal(named.type === "prompt" && named.for, "name");
});

Deno.test("join password from LINECHAT_PASSWORD; the native client gives --password or asks", async () => {
  await using server = new ServerProcess(["--host", "127.0.0.1", "--port", "0"], {
    LINECHAT_PASSWORD: "from env",
  });
  const port = await server.port();
  const withFlag = await runClient([
    "--port",
    String(port),
    "--name",
    "flag",
    "--password",
    "from env",
  ], "/users\n");
  assert.equal(withFlag.code, 0, withFlag.stderr);
  assert.match(withFlag.stdout, /\* 1 online: flag/);
  const asked = await runClient(["--port", String(port)], "from env\nasked\n/users\n");
  assert.equal(asked.code, 0, asked.stderr);
  assert.match(asked.stdout, /password:[\s\S]*choose a name:[\s\S]*\* 1 online: asked/);
  assert.ok(!asked.stdout.includes("from env"), "the password is never shown");
  const wrong = await runClient(["--port", String(port), "--name", "w", "--password", "nope"]);
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /^chat-client: wrong password\n$/);
});

Deno.test("operators: /op with a throttled password; every operator command refused to others", async (t) => {
  await using server = startServer({ opPassword: "opsecret", limits: FAST_AUTH });
  const port = server.addr.port;
  await using op = await joinAs(port, "chief");
  await using user = await joinAs(port, "user");
  await t.step("a non-operator is refused every operator command", async () => {
    const commands = COMMAND_NAMES.filter(isOperatorCommand);
    assert.ok(commands.length >= 6);
    for (const name of commands) {
      await user.send(`/${name} chief`);
      await user.expect(`! not allowed: /${name} is for operators`);
    }
    await user.send("/motd new motd");
    await user.expect("! not allowed: setting the motd is for operators");
  });
  await t.step("a wrong operator password is throttled", async () => {
    await op.send("/op wrong");
    await op.expect("! wrong operator password; try again");
    await op.send("/op opsecret");
    await op.expect("* you are now an operator");
  });
  await t.step("kick", async () => {
    await using victim = await joinAs(port, "victim");
    await op.send("/kick victim spamming");
    await victim.expect("* kicked by chief: spamming");
    await victim.expectClosed();
    await user.expect("* victim left: kicked");
  });
  await t.step("mute and unmute; a muted user cannot rename", async () => {
    await op.send("/mute user 1h too loud");
    await user.expect(/^\* you are muted until \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(too loud\)$/);
    await op.expect(/^\* muted user until /);
    await user.send("can you hear me?");
    await user.expect(/^! you are muted until .*; nothing was sent$/);
    await user.send("/nick user2");
    await user.expect(/^! you are muted until .*; your name was not changed$/);
    await user.send("/me tries");
    await user.expect(/^! you are muted/);
    await user.send("/pm chief psst");
    await user.expect(/^! you are muted/);
    await op.send("/unmute user");
    await user.expect("* you may speak again");
    await user.send("heard now");
    const got = await op.collectUntil("user: heard now");
    assert.ok(!got.some((l) => /can you hear|tries|psst|user2/.test(l)));
  });
  await t.step("set the message of the day", async () => {
    await op.send("/motd Be excellent");
    await op.expect("* the message of the day is set");
    await user.send("/motd");
    await user.expect("- Be excellent");
  });
  await t.step("no operator password configured: /op is refused", async () => {
    await using plain = startServer();
    await using x = await joinAs(plain.addr.port, "x");
    await x.send("/op anything");
    await x.expect("! this server has no operator password");
  });
});

Deno.test("bans by name and by address; the console is an operator", async () => {
  const log: string[] = [];
  await using server = startServer({ hostname: "0.0.0.0", log: (l) => log.push(l) });
  const port = server.addr.port;
  await using watcher = await joinAs(port, "watcher");
  await using troll = await joinAs(port, "troll");
  server.console("/ban troll 1h spam");
  await troll.expect("* banned by the server: spam");
  await troll.expectClosed();
  await watcher.expect("* troll left: banned");
  await using again = await LineClient.connect(port);
  await again.send("Troll");
  await again.expect(/^! the name Troll is banned until \d{4}-.*; choose another$/);
  server.console("/banned");
  assert.ok(log.some((l) => /^console: {3}name troll until .* by the server \(spam\)$/.test(l)));

  // By address: 127.0.0.2 (bound as the source) is refused at connect, with the reason.
  server.console("/ban 127.0.0.2");
  const refused = await connectFrom("127.0.0.2", port);
  assert.equal(refused, "* you are banned from this server for good");
  server.console("/unban 127.0.0.2");
  assert.match(await connectFrom("127.0.0.2", port), /^welcome to linechat/);
  server.console("/unban troll");
  await again.send("troll");
  await again.expect("* welcome, troll!");
  server.console("/unban nobody");
  assert.ok(log.includes("console: nobody is not banned"));
});

Deno.test("with --data, bans and registered names survive a restart", async () => {
  const dir = await Deno.makeTempDir();
  const data = `${dir}/chat.db`;
  try {
    {
      await using server = new ServerProcess(["--host", "0.0.0.0", "--port", "0", "--data", data]);
      const port = await server.port();
      await using owner = await joinAs(port, "owner");
      await owner.send("/register hunter2 and more");
      await owner.expect("* owner is yours now: taking it needs this password");
      await server.type("/ban badname");
      await server.type("/ban 127.0.0.2 1d");
      await server.expect(/console: banned 127\.0\.0\.2 until /);
      server.child.kill("SIGTERM");
      assert.equal((await server.exit()).code, 0);
    }
    await using server = new ServerProcess(["--host", "0.0.0.0", "--port", "0", "--data", data]);
    const port = await server.port();
    assert.match(
      await connectFrom("127.0.0.2", port),
      /^\* you are banned from this server until /,
    );
    await using c = await LineClient.connect(port);
    await c.send("badname");
    await c.expect("! the name badname is banned for good; choose another");
    await c.send("owner");
    await c.expect("! owner is registered: give its password");
    await c.expect("password for owner:");
    await c.send("hunter2 and more");
    await c.expect("* welcome, owner!");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("owned names: refused to a stranger, granted to the owner, throttled, released", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using server = startServer({ dataFile: `${dir}/chat.db`, limits: FAST_AUTH });
    const port = server.addr.port;
    {
      await using alice = await joinAs(port, "alice");
      await alice.send("/register wonderland");
      await alice.expect("* alice is yours now: taking it needs this password");
      await alice.send("/register again");
      await alice.expect("! alice is registered already (/unregister first)");
    }
    await using stranger = await LineClient.connect(port);
    await stranger.send("Alice");
    await stranger.expect("! Alice is registered: give its password");
    await stranger.expect("password for Alice:");
    await stranger.send("guess");
    await stranger.expect("! wrong password for Alice; try again");
    // The prompt stays: the next line is a password again, until another /nick.
    await stranger.expect("password for Alice:");
    await stranger.send("/nick alice wrong2");
    await stranger.expect("! wrong password for alice; try again");
    await stranger.send("/nick alice wrong3");
    await stranger.expect("* wrong password for alice: too many tries", 5000);
    await stranger.expectClosed();

    await using owner = await LineClient.connect(port);
    await owner.send("/nick alice wonderland");
    await owner.expect("* welcome, alice!");
    await owner.send("/unregister");
    await owner.expect("* alice is no longer registered");
    await owner.send("/quit");
    await owner.expectClosed();
    await using anyone = await joinAs(port, "alice");
    await anyone.send("/unregister");
    await anyone.expect("! alice is not registered");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("the command hook never sees a password", async () => {
  const seen: string[] = [];
  await using server = startServer({
    password: "pw1",
    opPassword: "pw2",
    limits: FAST_AUTH,
    hooks: { command: ({ command }) => void seen.push(JSON.stringify(command)) },
  });
  await using a = await LineClient.connect(server.addr.port);
  await a.send("/pass pw1");
  await a.send("/nick ann");
  await a.expect("* welcome, ann!");
  await a.send("/op pw2");
  await a.expect("* you are now an operator");
  assert.ok(seen.length >= 2); // /nick and /op; the gate takes /pass before any command hook
  assert.ok(seen.every((c) => !c.includes("pw1") && !c.includes("pw2")), seen.join("\n"));
  assert.ok(seen.some((c) => c.includes('"password":"(hidden)"')));
});

Deno.test("/register needs --data", async () => {
  await using server = startServer();
  await using a = await joinAs(server.addr.port, "a");
  await a.send("/register pw");
  await a.expect("! registering names needs a server started with --data");
});

/** Connects from `source` (python binds it) and returns the first line the server sends. */
async function connectFrom(source: string, port: number): Promise<string> {
  const child = new Deno.Command("python3", {
    args: [
      "-c",
      `import socket
s = socket.create_connection(("127.0.0.1", ${port}), source_address=("${source}", 0))
print(s.makefile("rb").readline().decode().strip())`,
    ],
    stdout: "piped",
  }).spawn();
  const out = new LineQueue();
  await pump(child.stdout, out);
  await child.status;
  return out.received[0] ?? "";
}
