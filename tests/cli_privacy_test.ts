// Privacy on the server's side: the --data file and its WAL are private to their owner, and
// --log-private off keeps the text of private and group messages out of the log.

import assert from "node:assert/strict";
import { SqliteStore } from "../lib/server/store.ts";
import { joinAs, LineQueue, ServerProcess, startServer } from "./helpers.ts";

Deno.test({
  name: "SqliteStore creates its file and the -wal file readable by the owner only (0600)",
  ignore: Deno.build.os === "windows",
  fn: () => {
    const dir = Deno.makeTempDirSync();
    const path = `${dir}/chat.db`;
    try {
      const store = new SqliteStore(path);
      store.append({ room: "#lobby", kind: "message", from: "alice", text: "hi", ts: 1 });
      for (const file of [path, `${path}-wal`, `${path}-shm`]) {
        let mode: number | null;
        try {
          mode = Deno.statSync(file).mode;
        } catch (err) {
          assert.ok(file !== path && !file.endsWith("-wal"), `${file}: ${err}`);
          continue; // no -shm with exclusive locking
        }
        assert.equal((mode! & 0o777).toString(8), "600", file);
      }
      store.close();
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test("ChatServer hidePrivateText logs who wrote to whom, never the text", async () => {
  const logs = new LineQueue();
  await using server = startServer({ hidePrivateText: true, log: (l) => logs.push(l) });
  const { port } = server.addr;
  await using a = await joinAs(port, "alice");
  await using b = await joinAs(port, "bob");
  await using c = await joinAs(port, "carol");
  await a.send("/msg bob the secret plan");
  await b.expect("the secret plan");
  await logs.expect(/^private alice -> bob \(text not logged\)$/);
  await a.send("/groupmessage bob, carol group secret");
  await c.expect("group secret");
  await logs.expect(/^group alice -> bob, carol \(text not logged\)$/);
  await a.send("public words");
  await logs.expect(/^message #lobby alice: public words$/);
  assert.ok(!logs.received.some((l) => l.includes("secret")), logs.received.join("\n"));
});

Deno.test("server.ts logs private text by default and not with --log-private off", async (t) => {
  const cases: [string[], string][] = [
    [[], ": psst"],
    [["--log-private", "off"], " (text not logged)"],
  ];
  for (const [flags, logged] of cases) {
    await t.step(flags.join(" ") || "default", async () => {
      await using server = new ServerProcess(["--host", "127.0.0.1", "--port", "0", ...flags]);
      const port = await server.port();
      await using a = await joinAs(port, "alice");
      await using b = await joinAs(port, "bob");
      await a.send("/msg bob psst");
      await b.expect("psst");
      await server.expect(`private alice -> bob${logged}`);
    });
  }
});

Deno.test("server.ts --log-private takes on or off, else one line", async () => {
  const server = new ServerProcess(["--log-private", "maybe"]);
  await server.closeStdin();
  const { code, stderr } = await server.exit();
  assert.equal(code, 1);
  assert.equal(stderr, 'chat-server: invalid --log-private "maybe": use on or off (try --help)\n');
});
