// The web door's bounds end to end, over raw sockets speaking HTTP and WebSocket frames by hand:
// a frame's length checked from its header (a 70 MiB frame never held), slow requests timed out,
// page loads counted against the caps, and the frame protocol (ping, close, UTF-8) on TCP and TLS.

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { LineClient, rssMiB, ServerProcess, startServer } from "./helpers.ts";
import { selfSigned } from "./tls_certs.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A frame the server sent. */
interface Frame {
  opcode: number;
  payload: Uint8Array;
}

/** A client socket to the web door that speaks HTTP and WebSocket frames by hand. */
class RawSocket implements AsyncDisposable {
  readonly conn: Deno.Conn;
  #buf = new Uint8Array(0);
  #eof = false;

  constructor(conn: Deno.Conn) {
    this.conn = conn;
  }

  static async connect(port: number, caCert?: string): Promise<RawSocket> {
    const conn = caCert
      ? await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [caCert] })
      : await Deno.connect({ hostname: "127.0.0.1", port });
    return new RawSocket(conn);
  }

  /** Sends an upgrade for `/ws` and reads the response head; the status. */
  async upgrade(): Promise<number> {
    await this.write(enc.encode(
      "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    ));
    const head = await this.head();
    if (head.startsWith("HTTP/1.1 101")) {
      assert(head.toLowerCase().includes("sec-websocket-accept: s3pplmbitxaq9kygzzhzrbk+xoo="));
    }
    return Number(head.split(" ")[1]);
  }

  /** Reads a response head (up to its empty line). */
  async head(): Promise<string> {
    for (;;) {
      const text = dec.decode(this.#buf);
      const end = text.indexOf("\r\n\r\n");
      if (end >= 0) {
        this.#buf = this.#buf.subarray(enc.encode(text.slice(0, end + 4)).length);
        return text.slice(0, end);
      }
      if (!await this.#more()) throw new Error(`closed after ${JSON.stringify(text)}`);
    }
  }

  /** Reads everything until the server closes; as text. */
  async rest(): Promise<string> {
    while (await this.#more());
    return dec.decode(this.#buf);
  }

  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) offset += await this.conn.write(bytes.subarray(offset));
  }

  /** Sends a masked frame. */
  async send(opcode: number, payload: Uint8Array | string, fin = true): Promise<void> {
    const data = typeof payload === "string" ? enc.encode(payload) : payload;
    await this.write(Uint8Array.from([...frameHeader(opcode, data.length, fin), ...data]));
  }

  /** The next frame the server sends; undefined at the end. */
  async frame(): Promise<Frame | undefined> {
    for (;;) {
      const b = this.#buf;
      if (b.length >= 2) {
        let len = b[1] & 0x7f;
        let at = 2;
        if (len === 126) [len, at] = [(b[2] << 8) | b[3], 4];
        else if (len === 127) {
          [len, at] = [Number(new DataView(b.buffer, b.byteOffset).getBigUint64(2)), 10];
        }
        if (b.length >= at + len) {
          this.#buf = b.subarray(at + len);
          return { opcode: b[0] & 0x0f, payload: b.slice(at, at + len) };
        }
      }
      if (!await this.#more()) return undefined;
    }
  }

  /** Reads frames until a close frame; its code and reason. */
  async closeFrame(): Promise<{ code: number; reason: string; texts: string[] }> {
    const texts: string[] = [];
    for (;;) {
      const f = await this.frame();
      if (!f) throw new Error(`no close frame; texts: ${texts.join(" | ")}`);
      if (f.opcode === 1) texts.push(dec.decode(f.payload));
      if (f.opcode === 8) {
        return {
          code: (f.payload[0] << 8) | f.payload[1],
          reason: dec.decode(f.payload.subarray(2)),
          texts,
        };
      }
    }
  }

  /** Waits for the server to close the connection (reading and dropping what comes). */
  async closed(): Promise<void> {
    while (await this.#more()) this.#buf = new Uint8Array(0);
  }

  async #more(): Promise<boolean> {
    if (this.#eof) return false;
    const chunk = new Uint8Array(65536);
    let n: number | null;
    try {
      n = await this.conn.read(chunk);
    } catch {
      n = null;
    }
    if (n === null) {
      this.#eof = true;
      return false;
    }
    const joined = new Uint8Array(this.#buf.length + n);
    joined.set(this.#buf);
    joined.set(chunk.subarray(0, n), this.#buf.length);
    this.#buf = joined;
    return true;
  }

  [Symbol.asyncDispose](): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // Closed already.
    }
    return Promise.resolve();
  }
}

/** A masked frame header (mask key 0: the payload goes as it is). */
function frameHeader(opcode: number, length: number, fin = true): Uint8Array {
  const first = (fin ? 0x80 : 0) | opcode;
  if (length < 126) return Uint8Array.of(first, 0x80 | length, 0, 0, 0, 0);
  if (length < 65536) {
    return Uint8Array.of(first, 0x80 | 126, length >> 8, length & 0xff, 0, 0, 0, 0);
  }
  const out = new Uint8Array(14);
  out[0] = first;
  out[1] = 0x80 | 127;
  new DataView(out.buffer).setBigUint64(2, BigInt(length));
  return out;
}

function webPort(server: { webAddr: Deno.NetAddr | undefined }): number {
  assert(server.webAddr);
  return server.webAddr.port;
}

Deno.test("web door: a 70 MiB frame is refused after its header with 1009; the server's RSS does not grow by it", async () => {
  await using server = ServerProcess.onLoopback("--web-port", "0");
  await server.port();
  const line = await server.expect(/^web on /, 10_000);
  const port = Number(line.slice(line.lastIndexOf(":") + 1));
  const pid = server.child.pid;
  await using ws = await RawSocket.connect(port);
  assertEquals(await ws.upgrade(), 101);
  const before = await rssMiB(pid);
  const size = 70 * 1024 * 1024;
  await ws.write(frameHeader(1, size));
  // The rest of the frame, as fast as the server takes it, while the answer is read.
  const sending = (async () => {
    const chunk = new Uint8Array(1024 * 1024).fill(0x61);
    let sent = 0;
    try {
      while (sent < size) {
        await ws.write(chunk);
        sent += chunk.length;
      }
    } catch {
      // Closed by the server.
    }
    return sent;
  })();
  const { code, reason, texts } = await ws.closeFrame();
  assertEquals(code, 1009);
  assert(reason.includes("over 4096 bytes"), reason);
  assert(
    texts.some((t) => t.includes('"type":"bye"') && t.includes("over 4096 bytes")),
    texts.join(),
  );
  await ws.closed();
  const sent = await sending;
  const after = await rssMiB(pid);
  console.log(
    `  rss ${before.toFixed(1)} -> ${after.toFixed(1)} MiB; ${
      (sent / 2 ** 20).toFixed(0)
    } MiB sent`,
  );
  assert(after - before < 24, `RSS grew ${(after - before).toFixed(1)} MiB`);
});

Deno.test("web door: a slow request (slow loris) is closed after --web-timeout; its socket is released", async () => {
  await using server = startServer({ web: { port: 0 }, limits: { webRequestMs: 300 } });
  await using raw = await RawSocket.connect(webPort(server));
  const started = Date.now();
  await raw.write(enc.encode("GET / HTTP/1.1\r\n"));
  const dribble = setInterval(() => raw.write(enc.encode("X: y\r\n")).catch(() => {}), 50);
  try {
    await raw.closed();
  } finally {
    clearInterval(dribble);
  }
  const took = Date.now() - started;
  assert(took >= 250 && took < 3000, `closed after ${took} ms`);
  while (server.socketCount > 0) await new Promise((r) => setTimeout(r, 10));
});

Deno.test("web door: page loads and unfinished requests count against --max-per-ip like TCP", async () => {
  await using server = startServer({ web: { port: 0 }, limits: { maxPerIp: 1 } });
  await using _idle = await RawSocket.connect(webPort(server));
  // The idle socket is counted from accept: a chat connection is refused.
  await using tcp = await LineClient.connect(server.addr.port);
  await tcp.expect("too many connections");
  await tcp.expectClosed();
  // And a page load while it is open is refused with 503.
  await using page = await RawSocket.connect(webPort(server));
  await page.write(enc.encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  const head = await page.head();
  assert(head.startsWith("HTTP/1.1 503"), head);
  assert((await page.rest()).includes("too many connections"));
});

Deno.test("web door: a request head over 8 KiB gets 431 and a close", async () => {
  await using server = startServer({ web: { port: 0 } });
  await using raw = await RawSocket.connect(webPort(server));
  await raw.write(enc.encode("GET / HTTP/1.1\r\nX-Pad: " + "a".repeat(9000) + "\r\n\r\n"));
  const head = await raw.head();
  assert(head.startsWith("HTTP/1.1 431"), head);
  assert(head.toLowerCase().includes("connection: close"));
  await raw.closed();
});

Deno.test("web door: ping gets a pong; a client's close is answered with its code", async () => {
  await using server = startServer({ web: { port: 0 } });
  await using ws = await RawSocket.connect(webPort(server));
  assertEquals(await ws.upgrade(), 101);
  await ws.send(9, "are you there");
  for (;;) {
    const f = await ws.frame();
    assert(f, "a pong before the end");
    if (f.opcode === 10) {
      assertEquals(dec.decode(f.payload), "are you there");
      break;
    }
  }
  await ws.send(8, Uint8Array.of(0x0f, 0xa0, 0x62, 0x79, 0x65)); // 4000 "bye"
  const { code } = await ws.closeFrame();
  assertEquals(code, 4000);
  await ws.closed();
});

Deno.test("web door: invalid UTF-8 in a text frame gets 1007; an unmasked frame 1002", async () => {
  await using server = startServer({ web: { port: 0 } });
  await using bad = await RawSocket.connect(webPort(server));
  assertEquals(await bad.upgrade(), 101);
  await bad.send(1, Uint8Array.of(0x68, 0xff));
  assertEquals((await bad.closeFrame()).code, 1007);
  await using plain = await RawSocket.connect(webPort(server));
  assertEquals(await plain.upgrade(), 101);
  await plain.write(Uint8Array.of(0x81, 0x02, 0x68, 0x69));
  assertEquals((await plain.closeFrame()).code, 1002);
});

Deno.test("web door: a fragmented message over the line limit gets 1009 at the fragment that passes it", async () => {
  await using server = startServer({ web: { port: 0 }, limits: { maxLineBytes: 100 } });
  await using ws = await RawSocket.connect(webPort(server));
  assertEquals(await ws.upgrade(), 101);
  await ws.send(1, "x".repeat(60), false);
  await ws.send(0, "x".repeat(60), true);
  const { code, reason } = await ws.closeFrame();
  assertEquals(code, 1009);
  assert(reason.includes("over 100 bytes"), reason);
});

Deno.test("web door with TLS: wss speaks frames; a name is chosen over it", async () => {
  const { cert, key } = await selfSigned();
  await using server = startServer({ tls: { cert, key, port: 0 }, web: { port: 0 } });
  await using ws = await RawSocket.connect(webPort(server), cert);
  assertEquals(await ws.upgrade(), 101);
  await ws.send(1, "alice");
  for (;;) {
    const f = await ws.frame();
    assert(f, "named before the end");
    if (f.opcode === 1 && dec.decode(f.payload).includes('"type":"named"')) break;
  }
  assertEquals(server.names, ["alice"]);
  await ws.send(8, Uint8Array.of(0x03, 0xe8));
  assertEquals((await ws.closeFrame()).code, 1000);
  await ws.closed();
});
