// Sockets, end to end: TLS handshakes that never finish are closed on time and give their
// descriptors back, the caps count open sockets from accept to close, failed accepts back
// off and are logged at most once a second, and a server reply never trips the output cap.

import assert from "node:assert/strict";
import { Session, type Transport } from "../lib/server/session.ts";
import { joinAs, LineClient, LineQueue, pump, startServer } from "./helpers.ts";
import { selfSigned } from "./tls_certs.ts";

/** A line client over TLS that trusts `cert`. */
async function tlsClient(port: number, cert: string): Promise<LineClient> {
  return LineClient.over(
    await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [cert] }),
  );
}

/**
 * What the next read on `conn` gives within `ms`: "eof", "data", "error" or "nothing" (the
 * read is then left pending until `conn` is closed).
 */
async function nextRead(conn: Deno.Conn, ms: number): Promise<string> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => timer = setTimeout(resolve, ms, "nothing"));
  const read = conn.read(new Uint8Array(64)).then(
    (n) => n === null ? "eof" : "data",
    () => "error",
  );
  try {
    return await Promise.race([read, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Socket descriptors this process has open (`ls` sees them without --allow-read=/proc). */
async function openSockets(): Promise<number> {
  const out = await new Deno.Command("ls", { args: ["-l", `/proc/${Deno.pid}/fd`] }).output();
  return new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.includes("socket:"))
    .length;
}

Deno.test({
  name: "TlsTransport: sockets that never send a ClientHello are closed after tlsHandshakeMs",
  ignore: Deno.build.os !== "linux",
}, async () => {
  const pem = await selfSigned();
  const logs = new LineQueue();
  await using server = startServer({
    tls: pem,
    limits: { tlsHandshakeMs: 300, nameTimeoutMs: 300, maxPerIp: 0 },
    log: (l) => logs.push(l),
  });
  const port = server.addr.port;
  // One handshake and one timeout first, so what the runtime opens once is open before counting.
  {
    await using warm = await tlsClient(port, pem.cert);
    await warm.send("warm");
    await warm.expect("welcome, warm!");
  }
  await logs.expect("disconnect");
  {
    const once = await Deno.connect({ hostname: "127.0.0.1", port });
    assert.equal(await nextRead(once, 5000), "eof");
    once.close();
  }
  const before = await openSockets();
  const logged = logs.received.length;
  const silent: Deno.Conn[] = [];
  for (let i = 0; i < 100; i++) silent.push(await Deno.connect({ hostname: "127.0.0.1", port }));
  try {
    const reads = await Promise.all(silent.map((c) => nextRead(c, 5000)));
    assert.deepEqual(new Set(reads), new Set(["eof"]), "every silent socket sees the end");
    assert.equal(server.socketCount, 0);
    const timeouts = logs.received.slice(logged).filter((l) =>
      /^tls 127\.0\.0\.1:\d+: no TLS handshake/.test(l)
    );
    assert.equal(timeouts.length, 100, "one log line each");
  } finally {
    for (const c of silent) c.close();
  }
  assert.equal(await openSockets(), before, "every socket descriptor is back");
  // Nobody was shut out meanwhile.
  await using late = await tlsClient(port, pem.cert);
  await late.send("late");
  await late.expect("welcome, late!");
});

Deno.test("maxPerIp counts sockets still in their TLS handshake; a slot is freed on close", async () => {
  const pem = await selfSigned();
  const logs = new LineQueue();
  await using server = startServer({
    tls: { ...pem, port: 0 },
    limits: { maxPerIp: 3, nameTimeoutMs: 100, tlsHandshakeMs: 10_000, shutdownFlushMs: 300 },
    log: (l) => logs.push(l),
  });
  const tlsPort = server.tlsAddr!.port;
  const silent = [
    await Deno.connect({ hostname: "127.0.0.1", port: tlsPort }),
    await Deno.connect({ hostname: "127.0.0.1", port: tlsPort }),
  ];
  try {
    // A plain client that names itself too late: the silent sockets are past the name
    // timeout by the time it is closed, and still open, so still counted.
    {
      await using plain = await LineClient.connect(server.addr.port);
      await plain.expect("* no name chosen within 0.1 s", 3000);
      await plain.expectClosed();
    }
    await using third = await tlsClient(tlsPort, pem.cert);
    await third.send("third");
    await third.expect("welcome, third!");
    await using fourth = await tlsClient(tlsPort, pem.cert);
    assert.deepEqual(await fourth.expectClosed(), [
      "* too many connections from your address (limit 3)",
    ]);
    // Refused before any handshake: closed all the same, within shutdownFlushMs.
    const refused = await Deno.connect({ hostname: "127.0.0.1", port: tlsPort });
    assert.equal(await nextRead(refused, 3000), "eof");
    refused.close();
    assert.equal(server.socketCount, 3, "two silent, one named");

    silent.shift()!.close();
    await logs.expect(/^tls 127\.0\.0\.1:\d+: closed before the TLS handshake finished; closed$/);
    assert.equal(server.socketCount, 2);
    await using fifth = await tlsClient(tlsPort, pem.cert);
    await fifth.send("fifth");
    await fifth.expect("welcome, fifth!");
  } finally {
    for (const c of silent) c.close();
  }
});

Deno.test("ChatServer.shutdown() closes TLS sockets still in their handshake at once", async () => {
  const pem = await selfSigned();
  const server = startServer({ tls: pem, limits: { shutdownFlushMs: 5000 } });
  const port = server.addr.port;
  const silent = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    // Accepted in order: once a later client is greeted, the silent one is in too.
    await using named = await tlsClient(port, pem.cert);
    await named.expect("choose a name:");
    const started = performance.now();
    await server.shutdown();
    assert.ok(performance.now() - started < 1000, "no wait for the handshake deadline");
    await named.expect("* server shutting down");
    await named.expectClosed();
    assert.equal(await nextRead(silent, 1000), "eof");
    assert.equal(server.socketCount, 0);
  } finally {
    silent.close();
  }
});

/** server.ts under `ulimit -n`, its stdout as lines. */
class LimitedServer extends LineQueue implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #stdout: Promise<void>;

  constructor(fds: number, args: string[]) {
    super();
    this.#child = new Deno.Command("bash", {
      args: [
        "-c",
        `ulimit -n ${fds} && exec "$0" "$@"`,
        Deno.execPath(),
        "run",
        "--allow-net",
        "--allow-read",
        "--allow-write",
        "--allow-env=LINECHAT_PASSWORD,LINECHAT_OP_PASSWORD",
        new URL("../server.ts", import.meta.url).pathname,
        ...args,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#stdout = pump(this.#child.stdout, this);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#child.kill("SIGKILL");
    await this.#child.stdin.close().catch(() => {});
    await this.#child.status;
    await this.#stdout;
  }
}

Deno.test({
  name: "accept failures (EMFILE) back off and are logged at most once a second",
  ignore: Deno.build.os !== "linux",
}, async () => {
  await using server = new LimitedServer(100, [
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--max-per-ip",
    "0",
    "--max-clients",
    "0",
  ]);
  const line = await server.expect(/^listening on /, 10_000);
  const port = Number(line.slice(line.lastIndexOf(":") + 1));
  const hogs: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 150; i++) hogs.push(await Deno.connect({ hostname: "127.0.0.1", port }));
    const first = await server.expect("accept failed", 5000);
    const second = await server.expect("accept failed", 5000);
    const stamp = (l: string) => Date.parse(l.slice(0, l.indexOf(" ")));
    assert.match(first, /accept failed: .*Too many open files/);
    assert.ok(stamp(second) - stamp(first) >= 990, `a second apart:\n${first}\n${second}`);
    const times = Number(second.match(/accept failed (\d+) times in [\d.]+ s: /)?.[1]);
    assert.ok(times >= 2 && times <= 12, `backing off, not spinning: ${second}`);
  } finally {
    for (const c of hogs) c.close();
  }
  // Descriptors free again: newcomers get in and chat.
  await using a = await joinAs(port, "a");
  await using b = await joinAs(port, "b");
  await a.send("back to normal");
  await b.expect("a: back to normal", 5000);
});

/** A transport whose peer never reads: writes never finish; closing fails them. */
class StalledTransport implements Transport {
  readonly remoteAddr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 };
  closes = 0;
  readonly #closed = Promise.withResolvers<never>();

  constructor() {
    // Whoever waits on a read or write sees the rejection; nobody may be waiting.
    this.#closed.promise.catch(() => {});
  }

  read(): Promise<number | null> {
    return this.#closed.promise;
  }

  write(): Promise<number> {
    return this.#closed.promise;
  }

  close(): void {
    this.closes++;
    this.#closed.reject(new Deno.errors.BadResource("closed"));
  }
}

Deno.test("Session.write(bytes, reply): a reply is queued while the queue is under the cap", async (t) => {
  const options = { maxLineBytes: 100, maxOutboxBytes: 100, flushMs: 100 };
  const bytes = (n: number) => new Uint8Array(n);
  await t.step("a reply past the cap is queued; the next write closes the session", async () => {
    const conn = new StalledTransport();
    const session = new Session(conn, options);
    session.write(bytes(80));
    await Promise.resolve(); // The flush starts: 80 bytes in flight, none written.
    session.write(bytes(50), true);
    assert.equal(conn.closes, 0, "a reply goes over the cap when the queue was under it");
    assert.equal(session.reason, undefined);
    session.write(bytes(1), true);
    assert.equal(session.reason, "output queue over 100 bytes (not reading)");
    session.write(bytes(1));
    session.close();
    assert.equal(conn.closes, 1, "closed once");
  });
  await t.step("any other write over the cap closes the session", () => {
    const conn = new StalledTransport();
    const session = new Session(conn, options);
    session.write(bytes(80));
    session.write(bytes(21));
    assert.equal(session.reason, "output queue over 100 bytes (not reading)");
    assert.equal(conn.closes, 1);
  });
});
