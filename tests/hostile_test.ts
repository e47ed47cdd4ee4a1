// Hostile input and overload, end to end over real TCP: escape injection, flood control,
// slow readers, slowloris and silence, connection caps, garbage and faults.

import assert from "node:assert/strict";
import type { ChatHooks } from "../lib/server/hub.ts";
import { TokenBucket } from "../lib/protocol/token_bucket.ts";
import { joinAs, LineClient, startServer, UNSAFE } from "./helpers.ts";

const enc = new TextEncoder();

/** Counts disconnects and lets a test wait until `n` have happened. */
function disconnects(): { hooks: ChatHooks; reach(n: number, timeoutMs?: number): Promise<void> } {
  let count = 0;
  let waiter: (() => void) | undefined;
  return {
    hooks: {
      disconnect: () => {
        count++;
        waiter?.();
      },
    },
    async reach(n, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (count < n) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`expected ${n} disconnects, saw ${count}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiter = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    },
  };
}

Deno.test("escape sequences and controls never reach another client or the log", async () => {
  const log: string[] = [];
  await using server = startServer({ log: (l) => log.push(l) });
  const port = server.addr.port;
  await using evil = await joinAs(port, "evil");
  await using text = await joinAs(port, "viewer");
  await using json = await LineClient.connect(port);
  await json.send("/proto json");
  await json.send("bot");
  await json.expectEvent((e) => e.type === "named");
  const payloads = [
    "\x1b[2J\x1b[Hcleared?",
    "\x1b]0;new title\x07title?",
    "\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\",
    "\u202etxet sdrawkcab",
    "bell\x07 back\x08space del\x7f c1\x85\x9b31m",
    "\x1bP1$r\x1b\\dcs",
  ];
  for (const p of payloads) await evil.send(p);
  await evil.send("/pm viewer \x1b[31mred pm");
  await evil.send("/gm viewer, bot \x1b]2;x\x07group");
  await evil.send("done");
  const seen = await text.collectUntil("evil: done");
  const events = await json.collectUntil((l) => l.includes('"text":"done"'));
  for (const line of [...seen, ...log]) assert.doesNotMatch(line, UNSAFE, JSON.stringify(line));
  for (const line of events) {
    const e = JSON.parse(line);
    if ("text" in e) assert.doesNotMatch(e.text, UNSAFE, JSON.stringify(e.text));
  }
  assert.ok(seen.includes("evil: cleared?"));
  assert.ok(seen.includes("evil: txet sdrawkcab"));
  assert.ok(seen.includes("[pm from evil] red pm"));
  assert.ok(seen.includes("[group from evil to viewer, bot] group"));
});

Deno.test("TokenBucket lets a burst through, then the steady rate", () => {
  const b = new TokenBucket(5, 20, 0);
  for (let i = 0; i < 20; i++) assert.ok(b.take(0), `burst line ${i}`);
  assert.equal(b.take(0), false);
  assert.equal(b.take(199), false);
  assert.equal(b.take(200), true); // 5/s: one token per 200 ms
  assert.equal(b.take(200), false);
  assert.equal(b.full(200 + 4000), true);
});

Deno.test("flood control: a 20-line paste arrives whole", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using a = await joinAs(port, "paster");
  await using b = await joinAs(port, "reader");
  const paste = Array.from({ length: 19 }, (_, i) => `line ${i + 1} of the paste`);
  // 20 lines, sent the moment the name is accepted.
  await a.sendRaw(enc.encode(paste.map((l) => l + "\r\n").join("") + "last\r\n"));
  const got = await b.collectUntil("paster: last");
  assert.deepEqual(
    got.filter((l) => l.startsWith("paster: line")),
    paste.map((l) => `paster: ${l}`),
  );
  assert.ok(!a.received.some((l) => l.includes("slow down")));
});

Deno.test("flood control: past the burst, one notice and the extra lines are dropped", async () => {
  await using server = startServer({ limits: { ratePerSecond: 1, burst: 20 } });
  const port = server.addr.port;
  await using a = await joinAs(port, "flood");
  await using b = await joinAs(port, "reader");
  const lines = Array.from({ length: 40 }, (_, i) => `msg ${i}\r\n`).join("");
  await a.sendRaw(enc.encode(lines));
  await a.expect("! slow down: 1 line dropped so far (limit 1/s after a burst of 20)");
  const ctl = await joinAs(port, "ctl");
  await ctl.send("marker");
  const got = (await b.collectUntil("ctl: marker")).filter((l) => l.startsWith("flood: "));
  assert.ok(got.length >= 20 && got.length <= 21, `delivered ${got.length}`);
  assert.deepEqual(got, got.map((_, i) => `flood: msg ${i}`), "the first lines, in order");
  assert.equal(a.received.filter((l) => l.includes("slow down")).length, 1);
  await ctl.close();
});

Deno.test("flood control: the notice counts the dropped lines, again at most once a second", async () => {
  await using server = startServer({
    limits: { ratePerSecond: 2, burst: 5, floodDisconnectLines: 10_000 },
  });
  await using a = await joinAs(server.addr.port, "flood");
  await a.sendRaw(enc.encode("spam\r\n".repeat(20)));
  await a.expect("! slow down: 1 line dropped so far (limit 2/s after a burst of 5)");
  // Keep flooding, a line every 50 ms, until the next notice: it counts every drop so far.
  const started = Date.now();
  let count = 0;
  while (count === 0 && Date.now() - started < 5000) {
    await a.sendRaw(enc.encode("more\r\n"));
    await new Promise((r) => setTimeout(r, 50));
    const notice = a.received.map((l) => /slow down: (\d+) lines dropped so far/.exec(l))
      .find((m) => m !== null);
    if (notice) count = Number(notice[1]);
  }
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 900, `the second notice came after ${elapsed} ms`);
  // 15 of the first 20, and most of the ~20 sent since (2 a second get through).
  assert.ok(count >= 25, `counted ${count}`);
  const notices = a.received.filter((l) => l.includes("slow down")).length;
  assert.ok(notices <= 2 + elapsed / 1000, `${notices} notices in ${elapsed} ms`);
});

Deno.test("flood control: sustained flooding disconnects with a reason", async () => {
  const gone = disconnects();
  await using server = startServer({
    limits: { ratePerSecond: 2, burst: 5, floodDisconnectLines: 30 },
    hooks: gone.hooks,
  });
  const port = server.addr.port;
  await using a = await joinAs(port, "flooder");
  await using b = await joinAs(port, "bystander");
  await a.sendRaw(enc.encode("spam\r\n".repeat(200)));
  await a.expect("* disconnected for flooding");
  await a.expectClosed();
  await b.expect("* flooder left: flooding (1 online)");
  await gone.reach(1);
  await b.send("/users");
  await b.expect("* 1 online: bystander");
});

Deno.test("flood control is off with rate 0", async () => {
  await using server = startServer({ limits: { ratePerSecond: 0 } });
  const port = server.addr.port;
  await using a = await joinAs(port, "a");
  await using b = await joinAs(port, "b");
  await a.sendRaw(enc.encode(Array.from({ length: 300 }, (_, i) => `n${i}\r\n`).join("")));
  const got = await b.collectUntil("a: n299");
  assert.equal(got.filter((l) => l.startsWith("a: n")).length, 300);
});

Deno.test("a stalled reader is cut off at its queue cap; everyone else's messages arrive complete", async () => {
  await using server = startServer({ limits: { maxOutboxBytes: 128 * 1024, ratePerSecond: 0 } });
  const port = server.addr.port;
  const chatters = await Promise.all(["c1", "c2", "c3"].map((n) => joinAs(port, n)));
  // A client with a 4 KiB receive window that names itself and then never reads.
  const stalled = new Deno.Command("python3", {
    args: [
      "-c",
      `import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", ${port}))
s.sendall(b"stalled\\r\\n")
sys.stdin.read()`,
    ],
    stdin: "piped",
  }).spawn();
  try {
    await chatters[0].expect("* stalled joined");
    const filler = "x".repeat(3000);
    let round = 0;
    // Bounded: 3 x 800 x 3 KB is far past the cap and the stalled socket's buffers.
    for (
      ;
      round < 800 && !chatters[0].received.some((l) => l.startsWith("* stalled left"));
      round++
    ) {
      for (const [k, c] of chatters.entries()) await c.send(`c${k + 1} says ${round} ${filler}`);
      // Each chatter has every other chatter's line of this round, in order.
      for (const [k, c] of chatters.entries()) {
        for (const other of [1, 2, 3].filter((n) => n !== k + 1)) {
          await c.expect(`c${other}: c${other} says ${round} `);
        }
      }
    }
    assert.ok(round > 10, `the stalled client held out ${round} rounds`);
    assert.deepEqual(chatters[0].received.filter((l) => l.startsWith("* stalled left")), [
      "* stalled left: output queue over 131072 bytes (not reading) (3 online)",
    ]);
  } finally {
    await stalled.stdin.close();
    await stalled.status;
    for (const c of chatters) await c.close();
  }
});

Deno.test("slowloris: bytes without a newline are discarded as they come; the line limit holds", async () => {
  await using server = startServer({ limits: { maxLineBytes: 1024 } });
  const port = server.addr.port;
  await using a = await joinAs(port, "slow");
  await using b = await joinAs(port, "b");
  const chunk = enc.encode("z".repeat(64 * 1024));
  for (let i = 0; i < 32; i++) await a.sendRaw(chunk); // 2 MiB, no newline
  await a.expect("! line too long (limit 1024 bytes); it was discarded");
  await a.send("\r\nafter");
  await b.expect("slow: after");
  assert.ok(!b.received.some((l) => l.includes("zzz")));
  assert.equal(a.received.filter((l) => l.includes("line too long")).length, 1);
});

Deno.test("a client that chooses no name in time is closed; named clients stay", async () => {
  const log: string[] = [];
  await using server = startServer({ limits: { nameTimeoutMs: 200 }, log: (l) => log.push(l) });
  const port = server.addr.port;
  await using named = await joinAs(port, "quick");
  await using silent = await LineClient.connect(port);
  await silent.expect("choose a name:");
  await silent.expect("* no name chosen within 0.2 s", 5000);
  await silent.expectClosed();
  await named.send("/users");
  await named.expect("* 1 online: quick");
  assert.ok(log.some((l) => /^timeout 127\.0\.0\.1:\d+: no name chosen$/.test(l)));
});

Deno.test("the optional idle timeout disconnects silent clients", async () => {
  await using server = startServer({ limits: { idleTimeoutMs: 300 } });
  const port = server.addr.port;
  await using idle = await joinAs(port, "idle");
  await using watcher = await joinAs(port, "watcher");
  await idle.expect("* idle for 0.3 s", 5000);
  await idle.expectClosed();
  // The watcher was silent as long, so it goes too; both leave with the reason.
  await watcher.expect(/\* (idle left: idle|idle for 0\.3 s)/, 5000);
});

/** Whether `ss` (iproute2) is here to show socket timers; the keepalive test needs it. */
function hasSs(): boolean {
  try {
    return new Deno.Command("ss", { args: ["-V"], stdout: "null", stderr: "null" }).outputSync()
      .success;
  } catch {
    return false;
  }
}

Deno.test({
  name: "TCP keepalive is on for accepted connections",
  ignore: Deno.build.os !== "linux" || !hasSs(),
}, async () => {
  await using server = startServer();
  await using a = await joinAs(server.addr.port, "alive");
  // ss shows the keepalive timer once no data is in flight (the retransmit timer wins
  // until the last write is acknowledged): look again, a bounded number of times.
  let line = "";
  for (let i = 0; i < 50 && !line.includes("timer:(keepalive"); i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 40));
    const out = await new Deno.Command("ss", { args: ["-tnoH", "state", "established"] }).output();
    const ours = new TextDecoder().decode(out.stdout).split("\n")
      .filter((l) => l.trim().split(/\s+/)[2] === `127.0.0.1:${server.addr.port}`);
    assert.equal(ours.length, 1, "one accepted connection");
    line = ours[0];
  }
  assert.match(line, /timer:\(keepalive/);
  await a.send("/users");
  await a.expect("1 online");
});

Deno.test("--max-clients: the newcomer is told why and closed; existing clients untouched", async () => {
  await using server = startServer({ limits: { maxClients: 2 } });
  const port = server.addr.port;
  await using a = await joinAs(port, "a");
  await using b = await joinAs(port, "b");
  await using c = await LineClient.connect(port);
  assert.deepEqual(await c.expectClosed(), ["* server full (2 connections); try again later"]);
  await a.send("still fine");
  await b.expect("a: still fine");
  await b.close();
  await a.expect("* b left");
  await using d = await joinAs(port, "d");
  await d.send("/users");
  await d.expect("* 2 online: a, d");
});

Deno.test("--max-per-ip: a third connection from one address is refused, others are not", async () => {
  await using server = startServer({ hostname: "0.0.0.0", limits: { maxPerIp: 2 } });
  const port = server.addr.port;
  await using a = await joinAs(port, "a");
  await using b = await joinAs(port, "b");
  await using c = await LineClient.connect(port);
  assert.deepEqual(await c.expectClosed(), [
    "* too many connections from your address (limit 2)",
  ]);
  // Another address (127.0.0.2, bound as the source) still gets in.
  const other = await new Deno.Command("python3", {
    args: [
      "-c",
      `import socket
s = socket.create_connection(("127.0.0.1", ${port}), source_address=("127.0.0.2", 0))
f = s.makefile("rb")
print(f.readline().decode().strip()); print(f.readline().decode().strip())`,
    ],
  }).output();
  assert.match(new TextDecoder().decode(other.stdout), /^welcome to linechat.*\nchoose a name:\n$/);
  await a.send("unaffected");
  await b.expect("a: unaffected");
});

Deno.test("garbage, half-closes and resets: no crash, no leak, nobody else affected", async () => {
  const gone = disconnects();
  await using server = startServer({ hooks: gone.hooks, limits: { ratePerSecond: 0 } });
  const port = server.addr.port;
  await using a = await joinAs(port, "a");
  await using b = await joinAs(port, "b");

  // Binary junk with NULs, invalid UTF-8 and stray IACs, never named.
  const junk = new Uint8Array(256 * 1024);
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + (i >> 3)) & 0xff;
  const j = await Deno.connect({ hostname: "127.0.0.1", port });
  await j.write(junk).catch(() => {});
  j.close();

  // Half-close: the client stops sending but still reads the replies.
  const h = await Deno.connect({ hostname: "127.0.0.1", port });
  await h.write(enc.encode("halfy\r\n/users\r\n"));
  await h.closeWrite();
  const replies = await new Response(h.readable).text();
  assert.match(replies, /\* welcome, halfy!.*\r\n\* 3 online: a, b, halfy\r\n/s);

  // Reset: a client closes with unread data in its receive buffer (the kernel sends RST)
  // while the server is writing to it.
  const r = await LineClient.connect(port);
  await r.send("resetter");
  await r.expect("welcome, resetter");
  await r.sendRaw(enc.encode("/help\r\n".repeat(50)));
  await r.close();

  await gone.reach(3);
  await a.send("after the storm");
  await b.expect("a: after the storm");
  assert.equal(server.connectionCount, 2);
});
