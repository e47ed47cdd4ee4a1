// The server's telnet side over real sockets: dead telnet peers found by TIMING-MARK probes
// and closed, their names free again; live ones answering the probes kept; clients that do
// not speak telnet never sent a probe.

import assert from "node:assert/strict";
import { joinAs, LineClient, startServer } from "./helpers.ts";

const IAC = 0xff;
const DO = 0xfd;
const WONT = 0xfc;
const WILL = 0xfb;
const TM = 6;
const NAWS = 31;

/** A telnet-speaking peer: says WILL NAWS (as telnet clients do), then takes `name`. */
async function telnetPeer(port: number, name: string): Promise<Deno.TcpConn> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(Uint8Array.of(IAC, WILL, NAWS, ...new TextEncoder().encode(`${name}\r\n`)));
  return conn;
}

/** Reads until `conn` ends; answers each TIMING-MARK probe when `answer`; returns the bytes. */
async function serve(conn: Deno.Conn, answer: boolean): Promise<number[]> {
  const seen: number[] = [];
  const buf = new Uint8Array(4096);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      seen.push(...buf.subarray(0, n));
      for (let i = 0; i + 2 < n; i++) {
        if (answer && buf[i] === IAC && buf[i + 1] === DO && buf[i + 2] === TM) {
          await conn.write(Uint8Array.of(IAC, WONT, TM));
        }
      }
    }
  } catch {
    // Closed under us: over.
  }
  return seen;
}

const probe = (bytes: number[]) => bytes.some((b, i) => b === IAC && bytes[i + 1] === DO);

Deno.test("dead peers: a silent telnet client is probed, closed, and its name is free again", async () => {
  const log: string[] = [];
  await using server = startServer({ limits: { deadPeerMs: 400 }, log: (l) => log.push(l) });
  const port = server.addr.port;
  await using bob = await joinAs(port, "bob");
  const alive = await telnetPeer(port, "alive");
  await bob.expect("* alive joined");
  const answering = serve(alive, true);
  const dead = await telnetPeer(port, "dead");
  await bob.expect("* dead joined");
  // The dead one reads (so its socket stays open) but never answers.
  const ignoring = serve(dead, false);
  const left = await bob.expect("* dead left");
  assert.match(left, /not responding for 0 s/);
  const seen = await ignoring;
  assert.ok(probe(seen), "it was probed before it was closed");
  await using _again = await joinAs(port, "dead");
  await bob.send("/users");
  await bob.expect("3 online: bob, alive, dead");
  alive.close();
  assert.ok(probe(await answering), "the live one was probed and stayed");
  assert.ok(log.some((l) => /leave dead \(not responding/.test(l)), log.join("\n"));
});

Deno.test("dead peers: a client that does not speak telnet is never probed", async () => {
  await using server = startServer({ limits: { deadPeerMs: 200 } });
  const port = server.addr.port;
  await using bob = await joinAs(port, "bob");
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(new TextEncoder().encode("quiet\n"));
  await bob.expect("* quiet joined");
  const reading = serve(conn, false);
  // A telnet peer that goes silent now is closed after a full period: by then the quiet
  // one has been silent longer, and must still be there, unprobed.
  const dead = await telnetPeer(port, "dead");
  await bob.expect("* dead joined");
  const ignoring = serve(dead, false);
  await bob.expect("* dead left");
  await ignoring;
  await bob.send("/users");
  await bob.expect("2 online: bob, quiet");
  conn.close();
  assert.ok(!(await reading).includes(IAC), "no telnet bytes to a client that sent none");
});

Deno.test("telnet: a client sending LF only gets no proposal and a plain password prompt", async () => {
  await using server = startServer({ password: "pw" });
  await using c = await LineClient.connect(server.addr.port);
  await c.expect("password:");
  await c.send("nope", "\n");
  await c.expect("password: (it shows as you type)");
});
