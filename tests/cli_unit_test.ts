import assert from "node:assert/strict";
import { hostAndPort, parsePort, twoStageStop, UsageError } from "../lib/cli.ts";

Deno.test("twoStageStop() shuts down once and exits 0, a second call exits 130 at once", async () => {
  const exits: number[] = [];
  const log: string[] = [];
  let finish!: () => void;
  let started = 0;
  const stop = twoStageStop(
    () => {
      started++;
      return new Promise<void>((r) => finish = r);
    },
    (code) => exits.push(code),
    (l) => log.push(l),
  );
  stop();
  assert.equal(started, 1);
  assert.deepEqual(exits, []);
  stop();
  assert.deepEqual(exits, [130]);
  assert.deepEqual(log, ["second interrupt: exiting now"]);
  assert.equal(started, 1);
  finish();
  await Promise.resolve();
  await Promise.resolve();
  assert.deepEqual(exits, [130, 0]);
});

Deno.test("twoStageStop() exits 1 when the shutdown fails", async () => {
  const exits: number[] = [];
  const stop = twoStageStop(
    () => Promise.reject(new Error("boom")),
    (c) => exits.push(c),
    () => {},
  );
  stop();
  await new Promise((r) => setTimeout(r, 0));
  assert.deepEqual(exits, [1]);
});

Deno.test("parsePort() and hostAndPort() take flags or the positional form", () => {
  assert.equal(parsePort("0"), 0);
  assert.equal(parsePort("65535"), 65535);
  assert.throws(() => parsePort("65536"), UsageError);
  assert.throws(() => parsePort("-1"), UsageError);
  assert.throws(() => parsePort("8080x"), UsageError);
  assert.deepEqual(hostAndPort([], "0.0.0.0", "8080"), { host: "0.0.0.0", port: 8080 });
  assert.deepEqual(hostAndPort(["localhost", "7090"], "0.0.0.0", "8080"), {
    host: "localhost",
    port: 7090,
  });
  assert.deepEqual(hostAndPort(["localhost"], "0.0.0.0", "8080"), {
    host: "localhost",
    port: 8080,
  });
});
