// History replays end to end: a room switch replays only what this connection has not seen,
// and every replay ends with a marker (text and JSON), its events all marked as history.

import assert from "node:assert/strict";
import type { ServerEvent } from "../lib/protocol/events.ts";
import { joinAs, startServer } from "./helpers.ts";

const FAST = { ratePerSecond: 0 };

Deno.test("#replay() on a room switch sends only unseen lines, then * end of history", async () => {
  await using server = startServer({ limits: FAST });
  const port = server.addr.port;
  await using ann = await joinAs(port, "ann");
  await using bob = await joinAs(port, "bob");
  await ann.send("one");
  await ann.send("two");
  await bob.expect("ann: two");
  await bob.send("/join #dev");
  await bob.expect("* you are in #dev");
  await bob.send("/part #lobby");
  await bob.expect("* bob left #lobby");
  await ann.send("three");
  await bob.send("/join #lobby");
  const back = await bob.collectUntil("* end of history");
  const replayed = back.filter((l) => l.startsWith("[history "));
  assert.deepEqual(replayed.map((l) => l.replace(/^\[history \d\d:\d\d\] /, "")), [
    "ann: three",
  ]);
  // Switching rooms replays nothing; nor does a second return with nothing new.
  await bob.send("/join #dev");
  await bob.expect("* now talking in #dev");
  await bob.send("/part #lobby");
  await bob.send("/join #lobby");
  await bob.send("/users");
  const quiet = await bob.collectUntil(/^\* \d+ in #lobby|online:/);
  assert.ok(
    !quiet.some((l) => l.startsWith("[history ") || l === "* end of history"),
    quiet.join("\n"),
  );
});

Deno.test("#replay() in JSON: every replayed event has history: true, then history-end", async () => {
  await using server = startServer({ limits: FAST });
  const port = server.addr.port;
  await using ann = await joinAs(port, "ann");
  await ann.send("/join #dev");
  await ann.expect("* you are in #dev");
  for (let i = 0; i < 3; i++) await ann.send(`line ${i}`);
  await ann.send("/me waves");
  await ann.send("/users");
  await ann.expect(/online: /);
  await using bob = await joinAs(port, "bob");
  await bob.send("/proto json");
  await bob.expectEvent((e) => e.type === "mode");
  await bob.send("/join #dev");
  await bob.expectEvent((e) => e.type === "room");
  const lines = await bob.collectUntil((l) => l.includes('"history-end"'));
  const events = lines.map((l) => JSON.parse(l) as ServerEvent & { history?: boolean });
  assert.deepEqual(events.map((e) => e.type), [
    "message",
    "message",
    "message",
    "action",
    "history-end",
  ]);
  assert.ok(events.every((e) => e.history === true));
  const end = events.at(-1)!;
  assert.equal(end.type === "history-end" && `${end.room} ${end.count}`, "#dev 4");
});

Deno.test("#replay() marks the 'older messages not shown' notice as history too", async () => {
  await using server = startServer({ limits: { ...FAST, maxOutboxBytes: 8192, historyLines: 50 } });
  const port = server.addr.port;
  await using ann = await joinAs(port, "ann");
  await using bob = await joinAs(port, "bob");
  await bob.send("/proto json");
  await bob.send("/join #dev");
  await bob.expectEvent((e) => e.type === "room");
  await bob.send("/part #lobby");
  await bob.expectEvent((e) => e.type === "leave");
  const long = "x".repeat(900);
  for (let i = 0; i < 10; i++) await ann.send(`${i} ${long}`);
  await ann.send("/users");
  await ann.expect(/online\): ann$/);
  await bob.send("/join #lobby");
  const lines = await bob.collectUntil((l) => l.includes('"history-end"'));
  const replay = lines.map((l) => JSON.parse(l)).filter((e) => e.history);
  assert.equal(replay[0].type, "system", JSON.stringify(lines.map((l) => l.slice(0, 80))));
  assert.match(replay[0].text, /older messages? of #lobby not shown/);
});
