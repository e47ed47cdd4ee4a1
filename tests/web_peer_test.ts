// WebPeer over a fake socket: one frame per event line, the outbox cap, one close, one "gone".

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { closeReason, type FrameSocket, WebPeer } from "../lib/server/web/peer.ts";

class FakeSocket implements FrameSocket {
  readyState: number = WebSocket.OPEN;
  bufferedAmount = 0;
  readonly sent: string[] = [];
  readonly closes: [number | undefined, string | undefined][] = [];
  send(data: string): void {
    this.sent.push(data);
  }
  close(code?: number, reason?: string): void {
    this.closes.push([code, reason]);
    this.readyState = WebSocket.CLOSING;
  }
}

const bytes = (s: string) => new TextEncoder().encode(s);

function peer(socket: FakeSocket, gone: string[] = []): WebPeer {
  return new WebPeer(socket, "127.0.0.1:1", {
    maxOutboxBytes: 100,
    flushMs: 10_000,
    gone: (reason) => gone.push(reason),
  });
}

Deno.test("WebPeer.write() sends each event line as one text frame, without its CRLF", () => {
  const socket = new FakeSocket();
  const p = peer(socket);
  p.write(bytes('{"type":"ok"}\r\n'));
  p.write(bytes('{"a":1}\r\n{"b":"é"}\r\n'));
  assertEquals(socket.sent, ['{"type":"ok"}', '{"a":1}', '{"b":"é"}']);
});

Deno.test("WebPeer.write() closes a client whose backlog would pass the cap; a reply still fits under it", () => {
  const socket = new FakeSocket();
  const gone: string[] = [];
  const p = peer(socket, gone);
  socket.bufferedAmount = 90;
  p.write(bytes("x".repeat(20) + "\r\n"), true);
  assertEquals(socket.sent.length, 1);
  p.write(bytes("x".repeat(20) + "\r\n"));
  assertEquals(socket.sent.length, 1);
  assertEquals(socket.closes, [[1008, "output queue over 100 bytes (not reading)"]]);
  p.write(bytes("late\r\n"));
  assertEquals(socket.sent.length, 1);
  p.closed();
  assertEquals(gone, ["output queue over 100 bytes (not reading)"]);
});

Deno.test("WebPeer.close() closes once; the hub hears of it once, with the first reason", () => {
  const socket = new FakeSocket();
  const gone: string[] = [];
  const p = peer(socket, gone);
  p.close("kicked");
  p.close("again");
  p.closed();
  p.closed("later");
  assertEquals(socket.closes, [[1000, "kicked"]]);
  assertEquals(gone, ["kicked"]);
});

Deno.test("WebPeer.close() tells the hub after flushMs when the socket never closes", async () => {
  const gone: string[] = [];
  const p = new WebPeer(new FakeSocket(), "127.0.0.1:1", {
    maxOutboxBytes: 100,
    flushMs: 10,
    gone: (reason) => gone.push(reason),
  });
  const { promise, resolve } = Promise.withResolvers<void>();
  const check = setInterval(() => gone.length > 0 && resolve(), 5);
  p.close("bye");
  await promise;
  clearInterval(check);
  assertEquals(gone, ["bye"]);
});

Deno.test("closeReason() cuts a reason to 123 bytes at a character boundary", () => {
  assertEquals(closeReason("short"), "short");
  const long = closeReason("é".repeat(100));
  assert(new TextEncoder().encode(long).length <= 123);
  assert(long.endsWith("..."));
  assert(!long.includes("\uFFFD"));
});
