// Tests for lib/client/pace.ts: lines go out in order, a burst at once and the rest at the
// rate (a little under the server's), none with rate 0; close() drops what waits.

import assert from "node:assert/strict";
import { Pacer } from "../lib/client/pace.ts";

Deno.test("Pacer.send() writes the burst at once and the rest at the rate, in order", async () => {
  const written: string[] = [];
  const pacer = new Pacer((line) => written.push(line));
  pacer.limit(50, 12);
  const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`);
  const started = performance.now();
  for (const line of lines) pacer.send(line);
  // 12 less the 2 spared for the network.
  assert.deepEqual(written, lines.slice(0, 10));
  assert.equal(pacer.waiting, 10);
  await pacer.idle();
  assert.deepEqual(written, lines);
  // 10 more at 45 a second.
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 180, `took ${elapsed} ms`);
});

Deno.test("Pacer.limit() with rate 0 writes everything at once", async () => {
  const written: string[] = [];
  const pacer = new Pacer((line) => written.push(line));
  pacer.limit(0, 20);
  for (let i = 0; i < 100; i++) pacer.send(`${i}`);
  assert.equal(written.length, 100);
  await pacer.idle();
});

Deno.test("Pacer.close() drops the waiting lines and resolves idle()", async () => {
  const written: string[] = [];
  const pacer = new Pacer((line) => written.push(line));
  pacer.limit(1, 3);
  for (let i = 0; i < 5; i++) pacer.send(`${i}`);
  const idle = pacer.idle();
  pacer.close();
  await idle;
  assert.deepEqual(written, ["0"]);
  assert.equal(pacer.waiting, 0);
});

Deno.test("Pacer.send() counts a line sent as several (a room change) as that many", async () => {
  const written: string[] = [];
  const pacer = new Pacer((line) => written.push(line));
  pacer.limit(50, 12);
  const started = performance.now();
  for (const line of ["/join #a", "/join #b", "/join #c"]) pacer.send(line, 5);
  pacer.send("hi");
  // 10 lines of burst: two room changes now, the third once 5 lines came back.
  assert.deepEqual(written, ["/join #a", "/join #b"]);
  assert.equal(pacer.waiting, 2);
  await pacer.idle();
  assert.deepEqual(written, ["/join #a", "/join #b", "/join #c", "hi"]);
  // 6 more at 45 a second.
  const elapsed = performance.now() - started;
  assert.ok(elapsed >= 130, `took ${elapsed} ms`);
});

Deno.test("Pacer.send() lets a line counting as more than the burst through once it is full", async () => {
  const written: string[] = [];
  const pacer = new Pacer((line) => written.push(line));
  pacer.limit(50, 4);
  pacer.send("/part", 5);
  pacer.send("/part", 5);
  assert.deepEqual(written, ["/part"]);
  await pacer.idle();
  assert.deepEqual(written, ["/part", "/part"]);
});
