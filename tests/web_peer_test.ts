// WebPeer over a fake Transport: one text frame per event line, the outbox cap (events and
// pongs), the close handshake both ways, and the bounded wait for a client that never answers.

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { WebPeer } from "../lib/server/web/peer.ts";
import type { Transport } from "../lib/server/session.ts";

const enc = new TextEncoder();
const dec = new TextDecoder("latin1");

/** A transport whose reads are fed by the test and whose writes can be held (a stalled peer). */
class FakeTransport implements Transport {
  readonly remoteAddr: Deno.NetAddr = { transport: "tcp", hostname: "127.0.0.1", port: 1 };
  readonly written: Uint8Array[] = [];
  closed = false;
  /** Writes never finish while true (the client does not read). */
  stalled = false;
  #chunks: Uint8Array[] = [];
  #wake: (() => void) | undefined;

  feed(bytes: Uint8Array): void {
    this.#chunks.push(bytes);
    this.#wake?.();
  }

  async read(buf: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.closed) throw new Deno.errors.BadResource("closed");
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const chunk = this.#chunks.shift()!;
    buf.set(chunk);
    return chunk.length;
  }

  write(bytes: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new Deno.errors.BadResource("closed"));
    if (this.stalled) return new Promise(() => {});
    this.written.push(bytes.slice());
    return Promise.resolve(bytes.length);
  }

  close(): void {
    this.closed = true;
    this.#wake?.();
  }

  /** The frames written so far, as [opcode, payload as latin1 text]. */
  frames(): [number, string][] {
    const all = Uint8Array.from(this.written.flatMap((b) => [...b]));
    const out: [number, string][] = [];
    for (let i = 0; i < all.length;) {
      let len = all[i + 1] & 0x7f;
      let at = i + 2;
      if (len === 126) [len, at] = [(all[i + 2] << 8) | all[i + 3], i + 4];
      out.push([all[i] & 0x0f, dec.decode(all.subarray(at, at + len))]);
      i = at + len;
    }
    return out;
  }
}

/** A masked client frame (mask key 0). */
function clientFrame(opcode: number, payload: Uint8Array): Uint8Array {
  return Uint8Array.from([0x80 | opcode, 0x80 | payload.length, 0, 0, 0, 0, ...payload]);
}

function peer(conn: FakeTransport, flushMs = 10_000, maxOutboxBytes = 100): WebPeer {
  return new WebPeer(conn, { maxLineBytes: 4096, maxOutboxBytes, flushMs });
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("WebPeer.write() sends each event line as one text frame, without its CRLF", async () => {
  const conn = new FakeTransport();
  const p = peer(conn);
  p.write(enc.encode('{"a":1}\r\n{"b":2}\r\n'));
  await tick();
  assertEquals(conn.frames(), [[1, '{"a":1}'], [1, '{"b":2}']]);
  conn.close();
});

Deno.test("WebPeer.write() closes a client whose queue would pass the cap; a reply still fits under it", async () => {
  const conn = new FakeTransport();
  conn.stalled = true;
  const p = peer(conn);
  p.write(enc.encode("x".repeat(60) + "\r\n"));
  p.write(enc.encode("y".repeat(60) + "\r\n"), true); // under the cap before it: queued
  assert(!conn.closed);
  await tick();
  p.write(enc.encode("z\r\n"));
  assert(conn.closed);
  assertEquals(p.reason, "output queue over 100 bytes (not reading)");
});

Deno.test("WebPeer.run() closes a client that sends pings and reads no pongs, at the cap", async () => {
  const conn = new FakeTransport();
  conn.stalled = true;
  const p = peer(conn);
  const running = p.run(new Uint8Array(0), () => {});
  for (let i = 0; i < 20 && !conn.closed; i++) {
    conn.feed(clientFrame(9, enc.encode("p".repeat(20))));
    await tick();
  }
  await running;
  assert(conn.closed);
  assertEquals(p.reason, "output queue over 100 bytes (not reading)");
});

Deno.test("WebPeer.close() sends a close frame and closes once the client answers it", async () => {
  const conn = new FakeTransport();
  const p = peer(conn);
  const texts: string[] = [];
  const running = p.run(clientFrame(1, enc.encode("hi")), (t) => texts.push(t));
  await tick();
  p.close("kicked", 1000);
  p.close("again", 1001); // once
  await tick();
  assertEquals(conn.frames(), [[8, "\x03\xe8kicked"]]);
  assert(!conn.closed, "waits for the client's close frame");
  conn.feed(clientFrame(1, enc.encode("late")));
  conn.feed(clientFrame(8, Uint8Array.of(0x03, 0xe8)));
  await running;
  assert(conn.closed);
  assertEquals(texts, ["hi"]);
  assertEquals(p.reason, "kicked");
});

Deno.test("WebPeer.close() closes after flushMs when the client never answers", async () => {
  const conn = new FakeTransport();
  const p = peer(conn, 50);
  const running = p.run(new Uint8Array(0), () => {});
  p.close("bye");
  const started = Date.now();
  await running;
  assert(conn.closed);
  assert(Date.now() - started >= 40);
});

Deno.test("WebPeer.run() answers the client's close frame with its code, then closes", async () => {
  const conn = new FakeTransport();
  const p = peer(conn);
  const running = p.run(clientFrame(8, Uint8Array.of(0x0f, 0xa0)), () => {});
  await running;
  assertEquals(conn.frames(), [[8, "\x0f\xa0"]]);
  assert(conn.closed);
  assertEquals(p.reason, "connection closed by peer");
});
