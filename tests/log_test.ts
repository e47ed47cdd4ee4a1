// Log against sinks that stall, fail or write a few bytes at a time: log() returns at once,
// the buffer stays bounded, drops are counted in one line once writing resumes, order is kept.

import assert from "node:assert/strict";
import { Log, type LogSink } from "../lib/server/log.ts";

const decoder = new TextDecoder();
const STAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /;

/** A sink that records what it is given; while stalled, writes wait until `release()`. */
class TestSink implements LogSink {
  readonly writes: string[] = [];
  /** Calls of `write`, finished or not. */
  calls = 0;
  #stalled = false;
  #waiting: (() => void)[] = [];

  constructor(readonly maxChunk = Infinity) {}

  /** Everything written, as lines without their timestamps (checked here). */
  get lines(): string[] {
    const lines = this.writes.join("").split("\n");
    assert.equal(lines.pop(), "");
    return lines.map((l) => {
      assert.match(l, STAMP);
      return l.replace(STAMP, "");
    });
  }

  write(bytes: Uint8Array): Promise<number> {
    this.calls++;
    const n = Math.min(bytes.length, this.maxChunk);
    const text = decoder.decode(bytes.subarray(0, n));
    if (!this.#stalled) {
      this.writes.push(text);
      return Promise.resolve(n);
    }
    return new Promise((resolve) => {
      this.#waiting.push(() => {
        this.writes.push(text);
        resolve(n);
      });
    });
  }

  stall(): void {
    this.#stalled = true;
  }

  release(): void {
    this.#stalled = false;
    for (const write of this.#waiting.splice(0)) write();
  }
}

/** Waits until the log has called `sink.write` (it does so on a timer turn). */
async function firstWrite(sink: TestSink): Promise<void> {
  for (let i = 0; i < 100 && sink.calls === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  assert.equal(sink.calls, 1);
}

Deno.test("Log.log() stamps each line and writes a burst in one write", async () => {
  const sink = new TestSink();
  const log = new Log(sink);
  log.log("one");
  log.log("two");
  log.log("three");
  assert.equal(sink.writes.length, 0, "written on a timer turn, not at once");
  await log.flush(1000);
  assert.equal(sink.writes.length, 1);
  assert.deepEqual(sink.lines, ["one", "two", "three"]);
  assert.deepEqual(log.held, { bytes: 0, lines: 0 });
});

Deno.test("Log.log() returns at once and stays bounded while the sink is stalled", async (t) => {
  // Lines of mixed lengths, so a short line may fit where a long one was just dropped.
  const text = (i: number) => `line ${i} ${"x".repeat(i % 3 === 0 ? 200 : 10)}`;
  const cases = [
    { name: "by bytes", bounds: { maxBytes: 4096, maxLines: 1000 } },
    { name: "by lines", bounds: { maxBytes: 1 << 20, maxLines: 20 } },
  ];
  for (const { name, bounds } of cases) {
    await t.step(name, async () => {
      const sink = new TestSink();
      sink.stall();
      const log = new Log(sink, bounds);
      log.log("before the stall");
      await firstWrite(sink);
      const started = performance.now();
      for (let i = 0; i < 10_000; i++) {
        log.log(text(i));
        assert.ok(log.held.bytes <= bounds.maxBytes, `held ${log.held.bytes} bytes`);
        assert.ok(log.held.lines <= bounds.maxLines, `held ${log.held.lines} lines`);
      }
      assert.ok(performance.now() - started < 2000, "log() did not wait for the sink");
      assert.equal(sink.writes.length, 0);

      sink.release();
      await log.flush(1000);
      const lines = sink.lines;
      const notice = lines.findIndex((l) => l.endsWith(" log lines dropped"));
      assert.ok(notice > 1, `a drop count after the kept lines: ${lines.join(" | ")}`);
      assert.equal(lines.length, notice + 1, "nothing after the drop count yet");
      // Kept: the first line and then lines 0..k-1 in order; the drop count says the rest.
      const kept = lines.slice(1, notice);
      assert.deepEqual(kept, kept.map((_, i) => text(i)));
      assert.equal(lines[notice], `${10_000 - kept.length} log lines dropped`);

      log.log("after the release");
      await log.flush(1000);
      assert.equal(sink.lines.at(-1), "after the release");
    });
  }
});

Deno.test("Log.log() drops every line from the first drop until writing resumes", async () => {
  // A stamped line is 26 bytes plus its text: room for "a", "b" and 30 bytes more.
  const sink = new TestSink();
  sink.stall();
  const log = new Log(sink, { maxBytes: 27 + 27 + 30, maxLines: 100 });
  log.log("a");
  await firstWrite(sink);
  log.log("b");
  log.log("x".repeat(20)); // 46 bytes: dropped.
  log.log("s"); // 27 bytes would fit, but the drop count goes first, once writing resumes.
  sink.release();
  await log.flush(1000);
  log.log("e");
  await log.flush(1000);
  assert.deepEqual(sink.lines, ["a", "b", "2 log lines dropped", "e"]);
});

Deno.test("Log.flush() gives up after timeoutMs when the sink is stalled", async () => {
  const sink = new TestSink();
  sink.stall();
  const log = new Log(sink);
  log.log("stuck");
  const started = performance.now();
  await log.flush(50);
  const waited = performance.now() - started;
  assert.ok(waited >= 45 && waited < 1000, `waited ${waited} ms`);
  sink.release();
  await log.flush(1000);
  assert.deepEqual(sink.lines, ["stuck"]);
});

Deno.test("Log.flush() resolves at once when nothing is waiting", async () => {
  const log = new Log(new TestSink());
  const started = performance.now();
  await log.flush(10_000);
  assert.ok(performance.now() - started < 1000);
});

Deno.test("Log writes all of a batch through a sink that takes a few bytes at a time", async () => {
  const sink = new TestSink(7);
  const log = new Log(sink);
  const lines = ["first line", "second, longer line with ü and 本", "third"];
  for (const line of lines) log.log(line);
  await log.flush(1000);
  assert.ok(sink.writes.length > 10);
  assert.deepEqual(sink.lines, lines);
});

Deno.test("Log stops quietly when the sink fails (stdout closed: EPIPE)", async () => {
  let writes = 0;
  const log = new Log({
    write: () => {
      writes++;
      return Promise.reject(new Deno.errors.BrokenPipe("Broken pipe (os error 32)"));
    },
  });
  log.log("lost");
  await log.flush(1000);
  log.log("also lost");
  await log.flush(1000);
  assert.equal(writes, 1);
  assert.deepEqual(log.held, { bytes: 0, lines: 0 });
});

Deno.test("Log.log() writes a control character as \\u00XX: no escape or line break from anyone", async () => {
  const sink = new TestSink();
  const log = new Log(sink);
  log.log("web: refused 1.2.3.4: origin \x1b]0;pwned\x07\x1b[2J\r\nfake line\x9b not allowed");
  await log.flush(1000);
  assert.deepEqual(sink.lines, [
    "web: refused 1.2.3.4: origin \\u001b]0;pwned\\u0007\\u001b[2J\\u000d\\u000afake line\\u009b not allowed",
  ]);
});
