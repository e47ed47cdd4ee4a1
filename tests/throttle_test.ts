// Tests for lib/server/throttle.ts over a fake clock: waits that grow and cap, lockouts, forgetting
// after a quiet period, keys kept apart, and the bound on keys tracked.

import assert from "node:assert/strict";
import { Throttle, type ThrottleOptions } from "../lib/server/throttle.ts";

const OPTIONS: ThrottleOptions = {
  delayMs: 1000,
  maxDelayMs: 8000,
  lockoutAfter: 5,
  lockoutMs: 60_000,
  forgetMs: 600_000,
  maxKeys: 100,
};

Deno.test("Throttle.delayMs() is 0 without failures, doubles per failure, and caps", () => {
  const t = new Throttle(OPTIONS);
  const waits = [0, 1, 2, 3, 4, 5, 50, 5000].map((n) => t.delayMs(n));
  assert.deepEqual(waits, [0, 1000, 2000, 4000, 8000, 8000, 8000, 8000]);
});

Deno.test("Throttle.fail() counts per key; keys do not share counts", () => {
  const t = new Throttle(OPTIONS);
  assert.equal(t.fail("a", 0), 1);
  assert.equal(t.fail("a", 10), 2);
  assert.equal(t.fail("b", 10), 1);
  assert.equal(t.failures("a", 20), 2);
  assert.equal(t.failures("b", 20), 1);
  assert.equal(t.failures("c", 20), 0);
});

Deno.test("Throttle.lockedUntil() locks a key at lockoutAfter failures, for lockoutMs", () => {
  const t = new Throttle(OPTIONS);
  for (let i = 0; i < 4; i++) t.fail("a", i);
  assert.equal(t.lockedUntil("a", 4), undefined, "four failures do not lock");
  t.fail("a", 100);
  assert.equal(t.lockedUntil("a", 100), 60_100);
  assert.equal(t.lockedUntil("a", 60_099), 60_100);
  assert.equal(t.lockedUntil("a", 60_100), undefined, "the lockout ends");
  assert.equal(t.lockedUntil("b", 100), undefined, "other keys are not locked");
  // The count stays until forgotten: the next failure locks again at once.
  assert.equal(t.failures("a", 60_100), 5);
  t.fail("a", 60_200);
  assert.equal(t.lockedUntil("a", 60_200), 120_200);
});

Deno.test("Throttle forgets a key's failures after forgetMs without one, not before", () => {
  const t = new Throttle(OPTIONS);
  t.fail("a", 0);
  t.fail("a", 500_000);
  assert.equal(t.failures("a", 1_099_999), 2, "the quiet period counts from the last failure");
  assert.equal(t.failures("a", 1_100_000), 0);
  assert.equal(t.size, 0, "a forgotten key is dropped");
});

Deno.test("Throttle keeps a lockout longer than forgetMs until it ends", () => {
  const t = new Throttle({ ...OPTIONS, lockoutAfter: 1, lockoutMs: 1000, forgetMs: 100 });
  t.fail("a", 0);
  assert.equal(t.lockedUntil("a", 500), 1000);
  assert.equal(t.failures("a", 1000), 0);
});

Deno.test("Throttle tracks at most maxKeys, evicting the key whose last failure is oldest", () => {
  const t = new Throttle({ ...OPTIONS, maxKeys: 3 });
  t.fail("a", 0);
  t.fail("b", 1);
  t.fail("c", 2);
  t.fail("a", 3); // a is now the most recent
  t.fail("d", 4); // b goes
  assert.equal(t.size, 3);
  assert.equal(t.failures("b", 5), 0);
  assert.deepEqual(["a", "c", "d"].map((k) => t.failures(k, 5)), [2, 1, 1]);
  for (let i = 0; i < 1000; i++) t.fail(`k${i}`, 10 + i);
  assert.equal(t.size, 3, "a flood of keys stays bounded");
});

Deno.test("Throttle with lockoutAfter 0 never locks", () => {
  const t = new Throttle({ ...OPTIONS, lockoutAfter: 0 });
  for (let i = 0; i < 50; i++) t.fail("a", i);
  assert.equal(t.lockedUntil("a", 50), undefined);
  assert.equal(t.delayMs(t.failures("a", 50)), 8000);
});
