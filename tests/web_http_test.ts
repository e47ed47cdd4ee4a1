// The web door's HTTP over plain bytes: HeadReader fed whole, cut in two at every byte and one byte
// at a time; its caps on size and header count; responses; the WebSocket accept key.

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  acceptKey,
  HeadReader,
  listsToken,
  MAX_HEAD_BYTES,
  MAX_HEADERS,
  parseHead,
  response,
} from "../lib/server/web/http.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Feeds `chunks`; the result and how many bytes of the last chunk were taken. */
function read(chunks: Uint8Array[]): { result: HeadReader["result"]; taken: number } {
  const reader = new HeadReader();
  let taken = 0;
  for (const c of chunks) {
    taken = reader.push(c);
    if (reader.result) break;
  }
  return { result: reader.result, taken };
}

function splits(bytes: Uint8Array): Uint8Array[][] {
  const all: Uint8Array[][] = [[bytes]];
  for (let i = 1; i < bytes.length; i++) all.push([bytes.subarray(0, i), bytes.subarray(i)]);
  all.push([...bytes].map((b) => Uint8Array.of(b)));
  return all;
}

Deno.test("HeadReader.push() reads a head however it is cut, and leaves what follows", () => {
  const text = "GET /ws?x=1 HTTP/1.1\r\nHost: chat.lan\r\nUpgrade: websocket\r\n" +
    "X-A: 1\r\nx-a: 2\r\n\r\n";
  const input = Uint8Array.from([...enc.encode(text), 0x81, 0x80]);
  for (const chunks of splits(input)) {
    const { result } = read(chunks);
    assertEquals(result, {
      method: "GET",
      path: "/ws",
      headers: new Map([["host", "chat.lan"], ["upgrade", "websocket"], ["x-a", "1, 2"]]),
    });
  }
  const { taken } = read([input]);
  assertEquals(taken, input.length - 2);
});

Deno.test("HeadReader.push() takes bare LF line endings", () => {
  const { result } = read([enc.encode("HEAD / HTTP/1.0\nHost: a\n\n")]);
  assertEquals(result, { method: "HEAD", path: "/", headers: new Map([["host", "a"]]) });
});

Deno.test("HeadReader.push() refuses a head over the size cap as it passes it", () => {
  const reader = new HeadReader();
  const line = enc.encode("X-Pad: " + "a".repeat(1000) + "\r\n");
  reader.push(enc.encode("GET / HTTP/1.1\r\n"));
  let fed = 0;
  while (!reader.result) {
    reader.push(line);
    fed += line.length;
    assert(fed < MAX_HEAD_BYTES + 2 * line.length, "refused by the cap");
  }
  assertEquals(reader.result, { status: 431, reason: "request header fields too large" });
});

Deno.test("HeadReader.push() refuses more than MAX_HEADERS header lines", () => {
  const head = "GET / HTTP/1.1\r\n" + "A: b\r\n".repeat(MAX_HEADERS + 1) + "\r\n";
  assertEquals(read([enc.encode(head)]).result, { status: 431, reason: "too many header fields" });
  const fits = "GET / HTTP/1.1\r\n" + "A: b\r\n".repeat(MAX_HEADERS - 1) + "\r\n";
  assert(!("status" in read([enc.encode(fits)]).result!));
});

Deno.test("parseHead() refuses bad request lines and header fields with 400", async (t) => {
  for (
    const head of [
      "GET /\r\n\r\n",
      "GET / HTTP/2.0\r\n\r\n",
      "GET  / HTTP/1.1\r\n\r\n",
      "G(T / HTTP/1.1\r\n\r\n",
      "GET / HTTP/1.1\r\nno colon\r\n\r\n",
      "GET / HTTP/1.1\r\n folded: x\r\n\r\n",
      "GET / HTTP/1.1\r\n: empty name\r\n\r\n",
    ]
  ) {
    await t.step(JSON.stringify(head), () => {
      assertEquals((parseHead(head) as { status: number }).status, 400);
    });
  }
});

Deno.test("response() says connection: close and the body's length; HEAD has no body", () => {
  const full = dec.decode(response(404, { "x-a": "b" }, "é\n"));
  assertEquals(
    full,
    "HTTP/1.1 404 Not Found\r\nx-a: b\r\ncontent-length: 3\r\nconnection: close\r\n\r\né\n",
  );
  const head = dec.decode(response(200, {}, "hello", true));
  assertEquals(head, "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\n");
});

Deno.test("acceptKey() gives RFC 6455's example answer", () => {
  assertEquals(acceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

Deno.test("listsToken() finds a token in a comma-separated header, any case", () => {
  assert(listsToken("keep-alive, Upgrade", "upgrade"));
  assert(!listsToken("keep-alive", "upgrade"));
  assert(!listsToken(undefined, "upgrade"));
});
