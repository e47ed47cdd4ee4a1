// The PROXY protocol v1 (lib/server/proxy_protocol.ts): the line parsed strictly, read within
// its bound, and, end to end, a balancer's connection treated as the client it names (bans, the
// per-address cap, the log), while anyone else's "PROXY" line is only text.

import assert from "node:assert/strict";
import { LineClient, startServer } from "./helpers.ts";
import {
  parseProxyLine,
  PROXY_LINE_MAX,
  ProxyHeaderError,
  readProxyHeader,
} from "../lib/server/proxy_protocol.ts";
import type { Transport } from "../lib/server/session.ts";
import { selfSigned } from "./tls_certs.ts";

Deno.test("parseProxyLine reads TCP4, TCP6 and UNKNOWN and refuses the rest", () => {
  assert.deepEqual(parseProxyLine("PROXY TCP4 203.0.113.7 10.0.0.1 40000 8080").source, {
    transport: "tcp",
    hostname: "203.0.113.7",
    port: 40000,
  });
  assert.equal(
    parseProxyLine("PROXY TCP6 2001:db8::7 2001:db8::1 5 6").source?.hostname,
    "2001:db8::7",
  );
  assert.deepEqual(parseProxyLine("PROXY UNKNOWN whatever follows"), {});
  for (
    const bad of [
      "HELLO TCP4 1.2.3.4 5.6.7.8 1 2",
      "PROXY TCP4 1.2.3.4 5.6.7.8 1",
      "PROXY UDP4 1.2.3.4 5.6.7.8 1 2",
      "PROXY TCP4 2001:db8::7 5.6.7.8 1 2",
      "PROXY TCP6 1.2.3.4 2001:db8::1 1 2",
      "PROXY TCP4 1.2.3.0/24 5.6.7.8 1 2",
      "PROXY TCP4 1.2.3.004 5.6.7.8 1 2",
      "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2",
      "PROXY TCP4 1.2.3.4 5.6.7.8 01 2",
      "PROXY TCP4  1.2.3.4 5.6.7.8 1 2",
    ]
  ) {
    assert.throws(() => parseProxyLine(bad), ProxyHeaderError, bad);
  }
});

/** A transport handing out `chunks` one read at a time, then the end (or nothing, forever). */
function chunked(chunks: Uint8Array[], end = true): Transport & { reads: number } {
  return {
    remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
    reads: 0,
    read(buf) {
      this.reads++;
      const next = chunks.shift();
      if (next === undefined) return end ? Promise.resolve(null) : new Promise(() => {});
      buf.set(next.subarray(0, buf.length));
      return Promise.resolve(Math.min(buf.length, next.length));
    },
    write: (bytes) => Promise.resolve(bytes.length),
    close() {},
  };
}

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("readProxyHeader: a line split over reads, and what follows it kept", async () => {
  const read = await readProxyHeader(
    chunked([bytes("PROXY TCP4 203.0.113.7 10.0"), bytes(".0.1 40000 8080\r\nalice\r\n")]),
    1000,
  );
  assert.equal(read?.header.source?.hostname, "203.0.113.7");
  assert.equal(new TextDecoder().decode(read?.rest), "alice\r\n");
});

Deno.test("readProxyHeader: an end before any byte is a health check, not an error", async () => {
  assert.equal(await readProxyHeader(chunked([]), 1000), undefined);
  const reset = chunked([]);
  reset.read = () => Promise.reject(new Deno.errors.ConnectionReset("reset by peer"));
  assert.equal(await readProxyHeader(reset, 1000), undefined);
  await assert.rejects(readProxyHeader(chunked([bytes("PROX")]), 1000), /ended inside/);
});

Deno.test("readProxyHeader stops at its bound, at a bare LF, at v2 and at its deadline", async () => {
  const long = chunked([bytes("PROXY UNKNOWN " + "x".repeat(200))], false);
  await assert.rejects(readProxyHeader(long, 1000), /first 107 bytes/);
  assert.ok(long.reads <= 2, "it never asks for more than its bound");
  assert.equal(PROXY_LINE_MAX, 107);
  await assert.rejects(
    readProxyHeader(chunked([bytes("PROXY UNKNOWN\n")]), 1000),
    /does not end with CRLF/,
  );
  const v2 = new Uint8Array([
    0x0d,
    0x0a,
    0x0d,
    0x0a,
    0x00,
    0x0d,
    0x0a,
    0x51,
    0x55,
    0x49,
    0x54,
    0x0a,
  ]);
  await assert.rejects(readProxyHeader(chunked([v2]), 1000), /version 2/);
  await assert.rejects(readProxyHeader(chunked([], false), 50), /no PROXY line within 0.05 s/);
});

/** A server trusting loopback as its balancer, its log kept. */
function behindBalancer(limits = {}) {
  const log: string[] = [];
  const server = startServer({
    proxyFrom: ["127.0.0.0/8"],
    log: (line) => log.push(line),
    limits: { tlsHandshakeMs: 2000, ...limits },
  });
  return { server, log };
}

/** Connects as the balancer would for a client at `ip`:`port`, the PROXY line sent. */
async function viaBalancer(serverPort: number, ip: string, port: number): Promise<LineClient> {
  const c = await LineClient.connect(serverPort);
  const family = ip.includes(":") ? "TCP6" : "TCP4";
  const own = ip.includes(":") ? "::1" : "127.0.0.1";
  await c.send(`PROXY ${family} ${ip} ${own} ${port} ${serverPort}`);
  return c;
}

Deno.test("a balancer's client is the client it names in the log, its first line in the PROXY line's packet kept", async () => {
  const { server, log } = behindBalancer();
  await using _ = server;
  await using alice = await LineClient.connect(server.addr.port);
  await alice.sendRaw(
    bytes(`PROXY TCP4 203.0.113.7 127.0.0.1 40000 ${server.addr.port}\r\nalice\r\n`),
  );
  await alice.expect("welcome, alice!");
  assert.ok(log.some((l) => l.startsWith("join alice from 203.0.113.7:40000")), log.join("\n"));
  await using bob = await viaBalancer(server.addr.port, "2001:db8::9", 41000);
  await bob.expect("choose a name:");
  await bob.send("bob");
  await bob.expect("welcome, bob!");
  assert.ok(log.some((l) => l.startsWith("join bob from [2001:db8::9]:41000")), log.join("\n"));
});

Deno.test("bans and the per-address cap apply to the client behind the balancer, not to the balancer", async () => {
  const { server } = behindBalancer({ maxPerIp: 1 });
  await using _ = server;
  server.console("/ban 203.0.113.66 (spam)");
  await using banned = await viaBalancer(server.addr.port, "203.0.113.66", 40001);
  assert.ok((await banned.expectClosed()).some((l) => l.includes("banned")));
  await using one = await viaBalancer(server.addr.port, "198.51.100.1", 40002);
  await one.expect("choose a name:");
  await using other = await viaBalancer(server.addr.port, "198.51.100.2", 40003);
  await other.expect("choose a name:");
  await using again = await viaBalancer(server.addr.port, "198.51.100.1", 40004);
  const lines = await again.expectClosed();
  assert.ok(
    lines.some((l) => l.includes("too many connections from your address")),
    lines.join("\n"),
  );
});

Deno.test("a balancer's connection without a good PROXY line is logged and closed", async () => {
  const { server, log } = behindBalancer({ tlsHandshakeMs: 300 });
  await using _ = server;
  await using plain = await LineClient.connect(server.addr.port);
  await plain.send("alice");
  assert.deepEqual(await plain.expectClosed(), []);
  await using silent = await LineClient.connect(server.addr.port);
  assert.deepEqual(await silent.expectClosed(), []);
  const proxyLines = log.filter((l) => l.startsWith("proxy 127.0.0.1:"));
  assert.equal(proxyLines.length, 2, log.join("\n"));
  assert.match(proxyLines[0], /no PROXY line; closed$/);
  assert.match(proxyLines[1], /no PROXY line within 0.3 s; closed$/);
  assert.equal(server.connectionCount, 0);
});

Deno.test("from an address not in --proxy-from, a PROXY line is only text", async () => {
  const log: string[] = [];
  await using server = startServer({ proxyFrom: ["10.9.9.9"], log: (l) => log.push(l) });
  await using c = await LineClient.connect(server.addr.port);
  await c.expect("choose a name:");
  await c.send("PROXY TCP4 203.0.113.7 127.0.0.1 40000 8080");
  await c.expect(/name/);
  await c.send("carol");
  await c.expect("welcome, carol!");
  assert.ok(log.some((l) => /^join carol from 127\.0\.0\.1:\d+/.test(l)), log.join("\n"));
});

Deno.test("the IRC port reads the PROXY line too", async () => {
  const log: string[] = [];
  await using server = startServer({
    proxyFrom: ["127.0.0.1"],
    log: (l) => log.push(l),
    irc: { name: "irc.test", port: 0 },
  });
  await using c = await LineClient.connect(server.ircAddr!.port);
  await c.send(`PROXY TCP4 192.0.2.5 127.0.0.1 5555 ${server.ircAddr!.port}`);
  await c.send("NICK dave");
  await c.send("USER dave 0 * :Dave");
  await c.expect(/ 001 dave /);
  assert.ok(log.some((l) => l.startsWith("join dave from 192.0.2.5:5555")), log.join("\n"));
});

Deno.test("the TLS port reads the PROXY line before the handshake", async () => {
  const log: string[] = [];
  const { cert, key } = await selfSigned();
  await using server = startServer({
    proxyFrom: ["127.0.0.1"],
    log: (l) => log.push(l),
    tls: { cert, key, port: 0 },
  });
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port: server.tlsAddr!.port });
  await tcp.write(bytes(`PROXY TCP4 192.0.2.6 127.0.0.1 6666 ${server.tlsAddr!.port}\r\n`));
  const tls = await Deno.startTls(tcp, { hostname: "127.0.0.1", caCerts: [cert] });
  await using c = LineClient.over(tls);
  await c.expect("choose a name:");
  await c.send("erin");
  await c.expect("welcome, erin!");
  assert.ok(log.some((l) => l.startsWith("join erin from 192.0.2.6:6666")), log.join("\n"));
});

/** The first line of the web door's answer to `GET /`, through a balancer naming `ip`. */
async function pageVia(port: number, ip: string | undefined): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const proxy = ip === undefined ? "" : `PROXY TCP4 ${ip} 127.0.0.1 40000 ${port}\r\n`;
    await conn.write(bytes(`${proxy}GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
    const got: number[] = [];
    const buf = new Uint8Array(4096);
    for (let n = await conn.read(buf); n !== null; n = await conn.read(buf)) {
      got.push(...buf.subarray(0, n));
      if (got.includes(0x0a)) break;
    }
    return new TextDecoder().decode(Uint8Array.from(got)).split("\r\n")[0];
  } finally {
    conn.close();
  }
}

Deno.test("the web door reads the PROXY line too: bans see the client, a missing line is closed", async () => {
  const log: string[] = [];
  await using server = startServer({
    proxyFrom: ["127.0.0.1"],
    log: (l) => log.push(l),
    web: { port: 0 },
  });
  server.console("/ban 203.0.113.66 (spam)");
  const port = server.webAddr!.port;
  assert.equal(await pageVia(port, "198.51.100.1"), "HTTP/1.1 200 OK");
  assert.match(await pageVia(port, "203.0.113.66"), /^HTTP\/1\.1 503 /);
  assert.equal(await pageVia(port, undefined), "");
  assert.ok(
    log.some((l) => /^web: proxy 127\.0\.0\.1:\d+: no PROXY line; closed$/.test(l)),
    log.join("\n"),
  );
  assert.ok(log.some((l) => l.startsWith("refused 203.0.113.66: ")), log.join("\n"));
});
