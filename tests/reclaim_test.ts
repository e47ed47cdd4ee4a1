// Tests for lib/server/reclaim.ts: calls in a burst merge into one collection after the burst
// settles, collections keep their interval, and close() cancels.

import assert from "node:assert/strict";
import { Reclaimer } from "../lib/server/reclaim.ts";

/** Waits until `done()` holds, polling, or fails after `ms`. */
async function until(done: () => boolean, ms = 2000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`not done within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

Deno.test("Reclaimer.schedule() merges a burst of calls into one collection after it settles", async () => {
  const r = new Reclaimer({ settleMs: 30, intervalMs: 0 });
  const started = performance.now();
  for (let i = 0; i < 100; i++) r.schedule();
  assert.equal(r.runs, 0, "nothing runs during the burst");
  await until(() => r.runs === 1);
  assert.ok(performance.now() - started >= 25, "it waited for the burst to settle");
  r.close();
});

Deno.test("Reclaimer.schedule() keeps intervalMs between collections", async () => {
  const at: number[] = [];
  const r = new Reclaimer({ settleMs: 1, intervalMs: 150 }, () => at.push(Date.now()));
  r.schedule();
  await until(() => r.runs === 1);
  r.schedule();
  await until(() => r.runs === 2);
  assert.ok(at[1] - at[0] >= 149, `the second waited out the interval (${at[1] - at[0]} ms)`);
  r.close();
});

Deno.test("Reclaimer.close() cancels a pending collection and later calls", async () => {
  const r = new Reclaimer({ settleMs: 10, intervalMs: 0 });
  r.schedule();
  r.close();
  r.schedule();
  // A timer that fires after the settle time shows nothing ran (close left no timer behind).
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(r.runs, 0);
});
