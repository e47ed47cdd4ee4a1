// chat-server with --data end to end: one server per data file (also after kill -9), another
// program's database refused unwritten, and the retention flags in --help.

import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { DatabaseSync } from "node:sqlite";
import { joinAs, ServerProcess } from "./helpers.ts";

const serverArgs = (data: string) => ["--host", "127.0.0.1", "--port", "0", "--data", data];

Deno.test("server.ts --data refuses a file another chat-server holds, until it is killed", async () => {
  const dir = await Deno.makeTempDir();
  const data = `${dir}/chat.db`;
  try {
    await using first = new ServerProcess(serverArgs(data));
    const port = await first.port();
    {
      await using ann = await joinAs(port, "ann");
      await using ben = await joinAs(port, "ben");
      await ann.send("kept across kill -9");
      await ben.expect("ann: kept across kill -9");
    }
    {
      await using second = new ServerProcess(serverArgs(data));
      const { code, stderr } = await second.exit();
      assert.equal(code, 1);
      assert.equal(stderr, `chat-server: --data ${data} is in use by another chat-server\n`);
    }
    first.child.kill("SIGKILL");
    await first.exit();
    await using third = new ServerProcess(serverArgs(data));
    await using cat = await joinAs(await third.port(), "cat");
    await cat.expect(/^\[history \d\d:\d\d\] ann: kept across kill -9$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("server.ts --data refuses another program's database and writes nothing to it", async () => {
  const dir = await Deno.makeTempDir();
  const data = `${dir}/notes.db`;
  try {
    const db = new DatabaseSync(data);
    db.exec(
      "PRAGMA journal_mode = DELETE; CREATE TABLE notes (body); INSERT INTO notes VALUES ('x')",
    );
    db.close();
    const hash = () => createHash("sha256").update(Deno.readFileSync(data)).digest("hex");
    const before = hash();
    await using server = new ServerProcess(serverArgs(data));
    const { code, stderr } = await server.exit();
    assert.equal(code, 1);
    assert.equal(stderr, `chat-server: --data ${data} is not a linechat data file\n`);
    assert.equal(hash(), before);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["notes.db"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("server.ts --retain-days and --retain-messages are checked and in --help", async () => {
  {
    await using help = new ServerProcess(["--help"]);
    const lines = await help.collectUntil(/--show the version|--version/);
    assert.ok(
      lines.some((l) => /^ {2}--retain-days DAYS +.*\(default 30\)$/.test(l)),
      "retain-days",
    );
    assert.ok(lines.some((l) => /^ {2}--retain-messages N +.*\(default 100000\)$/.test(l)));
  }
  await using bad = new ServerProcess(["--retain-days", "a week"]);
  const { code, stderr } = await bad.exit();
  assert.equal(code, 1);
  assert.match(
    stderr,
    /^chat-server: invalid --retain-days "a week": use a whole number from 1 to 36500, or 0 to/,
  );
});
