// client.ts reconnecting, end to end: a relay the test cuts (a dropped network) and a real
// server process killed and started again on the same port, with the client in plain mode
// and on a terminal (tmux). Waits follow the client's own "reconnecting" lines.

import assert from "node:assert/strict";
import { joinAs, PipedClient, ServerProcess, startServer } from "./helpers.ts";

/** A TCP relay to a port on loopback that the test can cut, as a dropped network would. */
class Relay implements AsyncDisposable {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #open = new Set<Deno.Conn>();
  readonly #tasks = new Set<Promise<void>>();
  readonly #accepting: Promise<void>;
  /** While set, new connections are closed at once (the server seems gone). */
  refusing = false;

  constructor(readonly target: number) {
    this.#accepting = this.#accept();
  }

  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        if (this.refusing) {
          conn.close();
          continue;
        }
        const task = this.#relay(conn);
        this.#tasks.add(task);
        task.finally(() => this.#tasks.delete(task));
      }
    } catch {
      // The listener was closed.
    }
  }

  async #relay(from: Deno.Conn): Promise<void> {
    this.#open.add(from);
    let to: Deno.Conn;
    try {
      to = await Deno.connect({ hostname: "127.0.0.1", port: this.target });
    } catch {
      this.#close(from);
      return;
    }
    this.#open.add(to);
    await Promise.all([this.#copy(from, to), this.#copy(to, from)]);
  }

  async #copy(a: Deno.Conn, b: Deno.Conn): Promise<void> {
    const buf = new Uint8Array(16384);
    try {
      for (;;) {
        const n = await a.read(buf);
        if (n === null) break;
        let off = 0;
        while (off < n) off += await b.write(buf.subarray(off, n));
      }
    } catch {
      // Cut.
    }
    this.#close(a);
    this.#close(b);
  }

  #close(conn: Deno.Conn): void {
    if (!this.#open.delete(conn)) return;
    try {
      conn.close();
    } catch {
      // Closed already.
    }
  }

  /** Cuts every connection through the relay. */
  cut(): void {
    for (const conn of [...this.#open]) this.#close(conn);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    this.cut();
    await this.#accepting;
    await Promise.all(this.#tasks);
  }
}

Deno.test("client.ts reconnects after a dropped network: name, room, missed lines once, typed lines sent", async () => {
  await using server = startServer();
  await using relay = new Relay(server.addr.port);
  await using alice = new PipedClient(["--name", "alice", "--port", String(relay.port)]);
  await alice.expect("welcome, alice!", 10_000);
  await using bob = await joinAs(server.addr.port, "bob");
  await bob.send("/join #dev");
  await bob.expect("you are in #dev");
  await alice.send("/join #dev");
  await alice.expect("you are in #dev");
  await bob.send("before the drop");
  await alice.expect("<bob> before the drop");
  await alice.send("mine before the drop");
  await bob.expect("alice: mine before the drop");

  relay.refusing = true;
  relay.cut();
  await alice.expect("connection closed by the server; reconnecting in 1 s (attempt 1)");
  await alice.send("typed while away");
  await bob.expect("alice left");
  await bob.send("said while alice was away");
  // The first attempt is refused: the wait doubles.
  await alice.expect("reconnecting in 2 s (attempt 2)", 5000);
  relay.refusing = false;
  await alice.expect("reconnected as alice", 8000);
  await alice.expect("you are in #dev");
  await alice.expect("[history] <bob> said while alice was away");
  await bob.expect("alice: typed while away");
  await alice.send("/users");
  await alice.expect("2 online: bob, alice");

  await alice.closeStdin();
  assert.equal((await alice.exit()).code, 0);
  assert.equal(alice.count("before the drop"), 2, alice.received.join("\n")); // bob's and hers
  assert.equal(alice.count("<bob> before the drop"), 1);
  assert.equal(alice.count("<alice> mine before the drop"), 1);
  assert.equal(alice.count("said while alice was away"), 1);
  assert.equal(alice.count("typed while away"), 1);
  assert.equal(alice.count("welcome, alice!"), 1);
});

Deno.test("client.ts reconnects to a restarted server: the server password and a registered name's", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const args = ["--host", "127.0.0.1", "--data", `${dir}/chat.db`, "--password", "door"];
    await using first = new ServerProcess([...args, "--port", "0"]);
    const port = String(await first.port());
    await using alice = new PipedClient(["--name", "alice", "--password", "door", "--port", port]);
    await alice.expect("welcome, alice!", 10_000);
    await alice.send("/register s3cret-pw");
    await alice.expect("alice is yours now", 10_000);
    await alice.send("/join #dev");
    await alice.expect("you are in #dev");
    await alice.send("hello from before");

    first.child.kill("SIGKILL");
    await first.exit();
    await alice.expect(/reconnecting in 1 s \(attempt 1\)/);
    await using second = new ServerProcess([...args, "--port", port]);
    await second.port();
    // Back under the registered name without being asked: /nick alice PASSWORD was sent.
    await alice.expect("reconnected as alice", 15_000);
    await alice.expect("you are in #dev");
    await second.expect(/join alice/);
    await alice.send("/quit");
    assert.equal((await alice.exit()).code, 0);
    assert.equal(alice.count("password"), 1, "only the reply to /register says password");
    assert.equal(alice.count("hello from before"), 1, "stored history already shown is skipped");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("client.ts reconnects after a server shutdown, but not after a kick", async () => {
  const server = startServer();
  const port = server.addr.port;
  await using alice = new PipedClient(["--name", "alice", "--port", String(port)]);
  await alice.expect("welcome, alice!", 10_000);
  await server.shutdown();
  await alice.expect("server shutting down; reconnecting in 1 s (attempt 1)");
  await using again = startServer({ port });
  await alice.expect("reconnected as alice", 8000);
  assert.ok(again.kick("alice", "spam"));
  await alice.expect("kicked by the server: spam");
  assert.equal((await alice.exit()).code, 0);
  assert.equal(alice.count("reconnecting"), 1);
});

Deno.test("client.ts --no-reconnect exits 1 when the connection is lost", async () => {
  await using server = startServer();
  await using relay = new Relay(server.addr.port);
  await using alice = new PipedClient([
    "--name",
    "alice",
    "--port",
    String(relay.port),
    "--no-reconnect",
  ]);
  await alice.expect("welcome, alice!", 10_000);
  relay.cut();
  const { code, stderr } = await alice.exit();
  assert.equal(code, 1);
  assert.match(stderr, /chat-client: connection closed by the server/);
  assert.equal(alice.count("reconnecting"), 0);
});

Deno.test("client.ts: stdin ending while waiting to reconnect exits 1 at once", async () => {
  await using server = startServer();
  await using relay = new Relay(server.addr.port);
  await using alice = new PipedClient(["--name", "alice", "--port", String(relay.port)]);
  await alice.expect("welcome, alice!", 10_000);
  relay.refusing = true;
  relay.cut();
  await alice.expect("reconnecting in 1 s (attempt 1)");
  await alice.closeStdin();
  const { code, stderr } = await alice.exit();
  assert.equal(code, 1);
  assert.match(stderr, /chat-client: connection closed by the server/);
});
