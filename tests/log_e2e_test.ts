// server.ts as a subprocess whose stdout nobody reads for a while: the chat goes on, the log
// drops lines and says how many once read again, and SIGTERM still exits promptly.

import assert from "node:assert/strict";
import { denoProcess, joinAs, type LineClient, LineQueue, pump } from "./helpers.ts";

const decoder = new TextDecoder();

/** server.ts with its stdout read only while `reading`: its first line is read at once. */
class StallableServer implements AsyncDisposable {
  readonly child = denoProcess("server.ts", ["--allow-net"], [
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    "--rate",
    "0",
  ], {});
  /** The stdout lines read since `resume()`. */
  readonly log = new LineQueue();
  readonly #stdout = this.child.stdout.getReader();
  readonly #stderr = new Response(this.child.stderr).text();
  #first = new Uint8Array();
  #open: (() => void) | undefined;
  #gate = new Promise<void>((resolve) => this.#open = resolve);
  #pump: Promise<void> | undefined;

  /** Reads up to the end of the `listening on HOST:PORT` line; returns the port. */
  async port(): Promise<number> {
    let bytes = new Uint8Array();
    while (!bytes.includes(10)) {
      const { value, done } = await this.#stdout.read();
      if (done) throw new Error(`server.ts ended: ${await this.#stderr}`);
      bytes = new Uint8Array([...bytes, ...value]);
    }
    const end = bytes.indexOf(10);
    const line = decoder.decode(bytes.subarray(0, end));
    assert.match(line, /^listening on 127\.0\.0\.1:\d+$/);
    this.#first = bytes.subarray(end + 1);
    this.#pump = pump(this.#chunks(), this.log);
    return Number(line.slice(line.lastIndexOf(":") + 1));
  }

  /** Reads stdout again, into `log`. */
  resume(): void {
    this.#open?.();
    this.#open = undefined;
  }

  /** Stops reading stdout (after the read under way, if any). */
  stall(): void {
    if (this.#open) return;
    this.#gate = new Promise((resolve) => this.#open = resolve);
  }

  async *#chunks(): AsyncGenerator<Uint8Array> {
    yield this.#first;
    for (;;) {
      await this.#gate;
      const { value, done } = await this.#stdout.read();
      if (done) return;
      yield value;
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.child.stdin.close().catch(() => {});
    this.resume();
    await (this.#pump ?? this.#stdout.cancel());
    await this.child.status;
    await this.#stderr;
  }
}

/** Sends `count` chat lines of 400 bytes from `from`, 100 at a time, and waits for each at `to`. */
async function chat(from: LineClient, to: LineClient, first: number, count: number): Promise<void> {
  const text = (i: number) => `${i} ${"x".repeat(400)}`;
  for (let start = first; start < first + count; start += 100) {
    const end = Math.min(start + 100, first + count);
    const batch: string[] = [];
    for (let i = start; i < end; i++) batch.push(text(i) + "\r\n");
    await from.sendRaw(new TextEncoder().encode(batch.join("")));
    // Text mode wraps long lines: the first row of each message starts with its number.
    for (let i = start; i < end; i++) await to.expect((l) => l.startsWith(`alice: ${i} x`));
  }
}

Deno.test("server.ts chats on while its stdout is stalled, then logs how many lines it dropped", async () => {
  await using server = new StallableServer();
  const port = await server.port();
  await using alice = await joinAs(port, "alice");
  await using bob = await joinAs(port, "bob");

  // 3,000 log lines of about 450 bytes: well past the pipe's 64 KiB and the log's 1 MiB.
  const LINES = 3000;
  await chat(alice, bob, 0, LINES);

  server.resume();
  const before = await server.log.collectUntil(/^\S+Z \d+ log lines dropped$/, 10_000);
  const dropped = Number(before.at(-1)!.split(" ")[1]);
  const kept = before.flatMap((l) => /^\S+Z message \S+ alice: (\d+) x+$/.exec(l)?.[1] ?? [])
    .map(Number);
  assert.ok(kept.length > 0 && dropped > 0, `kept ${kept.length}, dropped ${dropped}`);
  assert.deepEqual(kept, kept.map((_, i) => i), "the lines kept are the first ones, in order");
  assert.equal(kept.length + dropped, LINES);
  await alice.send("after the drop");
  await server.log.expect(/^\S+Z message \S+ alice: after the drop$/, 10_000);

  // Stall stdout again with more than a pipe's worth of log, then stop the server.
  server.stall();
  await chat(alice, bob, LINES, 300);
  const started = Date.now();
  server.child.kill("SIGTERM");
  await bob.expect("* server shutting down");
  const { code } = await server.child.status;
  assert.ok(Date.now() - started < 5000, `exited after ${Date.now() - started} ms`);
  assert.equal(code, 0);
});
