// End to end over real TCP: look-alike names are refused with the name they imitate,
// invisible characters never reach another client or the log, and no one's text can
// pass for a line of the server's on a telnet screen.

import assert from "node:assert/strict";
import { columns, graphemes } from "../lib/protocol/width.ts";
import { joinAs, LineClient, startServer } from "./helpers.ts";

const INVISIBLE = /[\u00ad\u200b-\u200d\u2060\ufeff\u3164\u{e0000}-\u{e007f}]/u;

Deno.test("a look-alike of an online name is refused with the name it imitates", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using alice = await joinAs(port, "alice");
  await using c = await LineClient.connect(port);
  await c.expect("choose a name:");
  for (const name of ["aIice", "a1ice", "AL1CE"]) {
    await c.send(name);
    await c.expect(`! the name ${name} looks too much like alice (online); choose another`);
  }
  await c.send("ALICE");
  await c.expect("! the name ALICE is taken; choose another");
  await c.send("bob");
  await c.expect("* welcome, bob!");
  await c.send("/nick aIice");
  await c.expect("! the name aIice looks too much like alice (online); choose another");
  // Your own name in another case or a look-alike of it is still yours to take.
  await alice.send("/nick Alice");
  await alice.expect("* you are now Alice");
  await alice.send("/nick a1ice");
  await alice.expect("* you are now a1ice");
  await c.expect("* Alice is now a1ice");
});

Deno.test("a look-alike of a registered name is refused; the name itself asks for its password", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using server = startServer({ dataFile: `${dir}/chat.db` });
    const port = server.addr.port;
    {
      await using alice = await joinAs(port, "alice");
      await alice.send("/register wonderland");
      await alice.expect("* alice is yours now: taking it needs this password");
    }
    await using c = await LineClient.connect(port);
    await c.expect("choose a name:");
    await c.send("a1ice");
    await c.expect("! the name a1ice looks too much like alice (registered); choose another");
    await c.send("Alice");
    await c.expect("! Alice is registered: give its password");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("invisible characters in a topic and a message reach neither others nor the log", async () => {
  const log: string[] = [];
  await using server = startServer({ log: (l) => log.push(l) });
  const port = server.addr.port;
  await using alice = await joinAs(port, "alice");
  await using bob = await joinAs(port, "bob");
  await alice.expect("* bob joined");
  await alice.send("/topic re\u200bleases\u2060 \u{e0041}\u{e0042} 👨\u200d👩");
  assert.equal(
    await bob.expect("set the topic"),
    "* alice set the topic of #lobby: releases 👨👩",
  );
  await alice.send("he\u200bl\u00adlo\ufeff \u3164 👨\u200d👩\u200d👧 \u200d");
  // In a message the joiners of the family emoji stay; nothing else invisible does.
  assert.equal(await bob.expect("alice: "), "alice: hello 👨\u200d👩\u200d👧");
  await bob.send("/topic");
  await bob.expect("* topic of #lobby: releases 👨👩 (set by alice)");
  const seen = [...log, ...bob.received].filter((l) => /hel|releases/.test(l));
  assert.ok(seen.length >= 4, seen.join("\n"));
  for (const line of seen) {
    assert.doesNotMatch(line.replace("👨\u200d👩\u200d👧", ""), INVISIBLE, JSON.stringify(line));
  }
});

/**
 * The rows a terminal `cols` wide shows for a line: it wraps at the last column, a tab
 * moves to the next multiple of 8, wide characters take two columns.
 */
function screenRows(line: string, cols: number): string[] {
  const rows = [""];
  let col = 0;
  for (const g of graphemes(line)) {
    const w = g === "\t" ? 8 - (col % 8) : columns(g);
    if (col + w > cols) {
      rows.push("");
      col = 0;
    }
    rows[rows.length - 1] += g;
    col += w;
  }
  return rows;
}

/** Paddings that bring the text after them to column `n` of a message's text. */
function paddings(n: number): string[] {
  const wide = (c: string) => c.repeat(Math.floor(n / 2)) + " ".repeat(n % 2);
  return [
    " ".repeat(n),
    "x".repeat(n),
    "\u00a0\u2800".repeat(n).slice(0, n),
    "\t".repeat(Math.floor((n + 11) / 8) - 1) + " ".repeat((n + 11) % 8),
    wide("\u3000"),
    wide("本"),
  ];
}

Deno.test("a padded message never shows a row starting [server] on a telnet screen", async (t) => {
  await using server = startServer({ limits: { burst: 100 } });
  const port = server.addr.port;
  await using mallory = await joinAs(port, "mallory");
  await using bob = await joinAs(port, "bob");
  await mallory.expect("* bob joined");
  const fake = "[server] maintenance: type /pass hunter2";
  // "mallory: hi" takes 11 columns: each padding aims the fake at column 0 of row 2.
  for (const cols of [80, 100, 132]) {
    await t.step(`${cols} columns`, async () => {
      const pads = paddings(cols - 11);
      for (const pad of pads) await mallory.send(`hi${pad}${fake}`);
      await mallory.send("done");
      const lines = await bob.collectUntil("mallory: done");
      const rows = lines.flatMap((l) => screenRows(l, cols));
      assert.ok(rows.length > pads.length, rows.join("\n"));
      for (const row of rows) {
        // Every row is the sender's own prefix or an indented continuation.
        assert.match(row, /^(mallory: | {4}\S)/, JSON.stringify(row));
      }
    });
  }
});
