// The soak run (`deno task soak`): starts server.ts as its own process with the default
// limits (plus --data and a TLS port) and drives it from this process with a mixed population,
// well-behaved and hostile, for a bounded time; then checks that well-behaved clients lost
// nothing, newcomers were never locked out, every connection was closed and memory came back.
//
//   deno task soak [--seconds 60] [--json FILE]

import { parseArgs } from "node:util";
import { LineFramer } from "../lib/protocol/framing.ts";
import { selfSigned } from "../tests/tls_certs.ts";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    json: { type: "string" },
  },
});
const SECONDS = Number(values.seconds);
if (!(SECONDS > 0 && SECONDS <= 3600)) {
  console.error(`soak: invalid --seconds "${values.seconds}": use 1 to 3600`);
  Deno.exit(1);
}

const enc = new TextEncoder();
/** The population: counts of each kind of client. */
const POP = {
  chatty: 12,
  idle: 40,
  flooding: 3,
  slow: 3,
  garbage: 3,
  reconnecting: 6,
  // Issue 10's attackers:
  poisoning: 1,
  silentTls: 40,
  registering: 4,
  renaming: 2,
  roomMaking: 2,
};
/** The server's stdout is not read for this long in the middle of the run (a stalled log). */
const STALL_MS = Math.min(10_000, SECONDS * 200);
/** Chatty clients stay under the default flood limit (5 lines/s): one line per 300 ms. */
const CHAT_INTERVAL_MS = 300;

// --- the server process ----------------------------------------------------------------

const dir = await Deno.makeTempDir({ prefix: "linechat-soak-" });
// The TLS port's certificate: the tests' own self-signed one for 127.0.0.1.
const pem = await selfSigned();
await Deno.writeTextFile(`${dir}/cert.pem`, pem.cert);
await Deno.writeTextFile(`${dir}/key.pem`, pem.key);

const server = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-write",
    new URL("../server.ts", import.meta.url).pathname,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    // Every client comes from 127.0.0.1: lift the per-address cap, keep every other limit.
    "--max-per-ip",
    "0",
    "--data",
    `${dir}/chat.db`,
    "--tls-cert",
    `${dir}/cert.pem`,
    "--tls-key",
    `${dir}/key.pem`,
    "--tls-port",
    "0",
  ],
  stdin: "null",
  stdout: "piped",
  stderr: "piped",
}).spawn();

let openConnections = -1;
let serverErrors = 0;
/** The first server log lines counted as errors, to show. */
const serverErrorLines: string[] = [];
let logDropped = 0;
/** The server's explicit collections (after bursts), from its log: the live heap after each. */
const reclaims: { at: number; heapMiB: number }[] = [];
let onLog: (() => void) | undefined;
/** Set while the run stalls the server's stdout: nothing is read until it resolves. */
let stall: Promise<void> | undefined;
const portReady = Promise.withResolvers<number>();
const tlsPortReady = Promise.withResolvers<number>();
const serverOut = (async () => {
  let carry = "";
  for await (const chunk of server.stdout.pipeThrough(new TextDecoderStream())) {
    const lines = (carry + chunk).split("\n");
    carry = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith("listening on ")) portReady.resolve(Number(line.split(":").pop()));
      if (line.startsWith("tls on ")) tlsPortReady.resolve(Number(line.split(":").pop()));
      const m = / \((\d+) connections\)$/.exec(line);
      if (m) openConnections = Number(m[1]);
      const d = / (\d+) log lines dropped$/.exec(line);
      if (d) logDropped += Number(d[1]);
      const r = /memory reclaimed: heap [\d.]+ -> ([\d.]+) MiB/.exec(line);
      if (r) reclaims.push({ at: Date.now(), heapMiB: Number(r[1]) });
      if (/ error |failed|internal/.test(line) && !/store failed/.test(line)) {
        serverErrors++;
        if (serverErrorLines.length < 5) serverErrorLines.push(line);
      }
    }
    onLog?.();
    if (stall) await stall;
  }
})();
const serverErr = new Response(server.stderr).text();

/** Resident memory of a process, from ps (Deno asks for --allow-all to read /proc/PID). */
async function rssKiB(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", { args: ["-o", "rss=", "-p", String(pid)] }).output();
  return Number(new TextDecoder().decode(out.stdout).trim());
}

const port = await Promise.race([
  portReady.promise,
  new Promise<number>((_, reject) =>
    setTimeout(() => reject(new Error("no listening line")), 15_000)
  ),
]);
const tlsPort = await tlsPortReady.promise;

// --- clients ---------------------------------------------------------------------------

let clientErrors = 0;
let stopping = false;
const tasks: Promise<void>[] = [];

/** A connection that reads lines (or not) and can be written to. */
class Conn {
  #conn: Deno.TcpConn;
  closed = false;
  readonly done: Promise<void>;

  constructor(conn: Deno.TcpConn, onLine: ((line: string) => void) | undefined) {
    this.#conn = conn;
    this.done = onLine ? this.#read(onLine) : Promise.resolve();
  }

  static async open(onLine?: (line: string) => void, to = port): Promise<Conn> {
    return new Conn(await Deno.connect({ hostname: "127.0.0.1", port: to }), onLine);
  }

  async #read(onLine: (line: string) => void): Promise<void> {
    const framer = new LineFramer(1 << 16, { line: onLine, overlong: () => {} });
    const buf = new Uint8Array(16384);
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        framer.push(buf.subarray(0, n));
      }
    } catch {
      // reset: the connection is over
    }
    this.closed = true;
  }

  async send(text: string | Uint8Array): Promise<boolean> {
    const bytes = typeof text === "string" ? enc.encode(text) : text;
    try {
      let off = 0;
      while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
      return true;
    } catch {
      this.closed = true;
      return false;
    }
  }

  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Well-behaved clients: chatty ones send numbered messages; all of them (chatty and idle)
// must receive every chatty message from the others, in order, exactly once.
interface Receiver {
  name: string;
  conn: Conn;
  /** Next expected sequence number per chatty sender. */
  next: Map<string, number>;
  received: number;
  lost: number;
  duplicates: number;
}
const receivers: Receiver[] = [];
const sentBy = new Map<string, number>();

async function wellBehaved(name: string): Promise<Receiver> {
  const r: Receiver = {
    name,
    conn: undefined!,
    next: new Map(),
    received: 0,
    lost: 0,
    duplicates: 0,
  };
  const named = Promise.withResolvers<void>();
  r.conn = await Conn.open((line) => {
    if (line.startsWith(`* welcome, ${name}!`)) named.resolve();
    const m = /^(chat\d+): m (\d+)$/.exec(line);
    if (!m) return;
    const seq = Number(m[2]);
    const want = r.next.get(m[1]) ?? 0;
    if (seq < want) r.duplicates++;
    else {
      r.lost += seq - want;
      r.received++;
      r.next.set(m[1], seq + 1);
    }
  });
  await r.conn.send(`${name}\r\n`);
  await named.promise;
  receivers.push(r);
  return r;
}

async function chatty(r: Receiver): Promise<void> {
  let seq = 0;
  while (!stopping && !r.conn.closed) {
    if (!(await r.conn.send(`m ${seq}\r\n`))) break;
    sentBy.set(r.name, ++seq);
    await sleep(CHAT_INTERVAL_MS);
  }
}

async function flooder(i: number): Promise<void> {
  while (!stopping) {
    const c = await Conn.open(() => {});
    await c.send(`flood${i}\r\n`);
    while (!stopping && !c.closed) {
      if (!(await c.send("flood flood flood\r\n".repeat(50)))) break;
      await sleep(20);
    }
    c.close();
    await c.done;
  }
}

async function slowReader(i: number): Promise<void> {
  // Names itself and never reads: its queue grows until the server cuts it off.
  while (!stopping) {
    const c = await Conn.open();
    await c.send(`slow${i}\r\n`);
    for (let t = 0; t < 50 && !stopping; t++) await sleep(100);
    c.close();
  }
}

async function garbage(i: number): Promise<void> {
  let seed = i + 1;
  while (!stopping) {
    const c = await Conn.open(() => {});
    const junk = new Uint8Array(8192);
    for (let k = 0; k < junk.length; k++) {
      junk[k] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    }
    for (let t = 0; t < 10 && !stopping && !c.closed; t++) {
      await c.send(junk);
      await sleep(50);
    }
    c.close();
    await c.done;
  }
}

/** Newcomers (reconnecting clients) that were welcomed and then cut off as not reading. */
let lockedOut = 0;

async function reconnecting(i: number): Promise<void> {
  let round = 0;
  while (!stopping) {
    const name = `re${i}-${round++}`;
    const welcomed = Promise.withResolvers<void>();
    const c = await Conn.open((l) => {
      if (l.startsWith("* welcome")) welcomed.resolve();
      if (l.includes("not reading")) lockedOut++;
    });
    await c.send(`${name}\r\nhello from ${name}\r\n`);
    await Promise.race([welcomed.promise, sleep(2000)]);
    await sleep(200 + (i * 37) % 300);
    if (c.closed) lockedOut++;
    await c.send(round % 2 ? "/quit\r\n" : "");
    c.close();
    await c.done;
  }
}

/** A named connection that reads and ignores everything; it reconnects when cut off. */
async function named(name: string, work: (c: Conn) => Promise<void>): Promise<void> {
  let round = 0;
  while (!stopping) {
    const c = await Conn.open(() => {});
    await c.send(`${name}${round++ ? round : ""}\r\n`);
    await work(c);
    c.close();
    await c.done;
  }
}

/** Fills #lobby's history with lines that grow when sent: invalid bytes and quotes. */
function poisoner(i: number): Promise<void> {
  return named(`poison${i}`, async (c) => {
    for (let k = 0; !stopping && !c.closed; k++) {
      const line = k % 2
        ? new Uint8Array([...new Uint8Array(1360).fill(0xfe), 0x0d, 0x0a])
        : enc.encode(`${'"'.repeat(2040)}\r\n`);
      if (!(await c.send(line))) break;
      await sleep(250);
    }
  });
}

/** TLS connections that never send a ClientHello: the server must close them itself. */
async function silentTls(): Promise<void> {
  while (!stopping) {
    const c = await Conn.open(() => {}, tlsPort);
    while (!stopping && !c.closed) await sleep(200);
    c.close();
    await c.done;
  }
}

/** /register over and over, on fresh names: scrypt work the server must bound. */
function registerer(i: number): Promise<void> {
  return named(`reg${i}`, async (c) => {
    for (let k = 0; !stopping && !c.closed && k < 20; k++) {
      await c.send(`/nick reg${i}x${k}\r\n/register pass-${k}\r\n`);
      await sleep(300);
    }
  });
}

/** Renames as fast as the server lets it, in #lobby where everyone is. */
function renamer(i: number): Promise<void> {
  return named(`ren${i}`, async (c) => {
    for (let k = 0; !stopping && !c.closed; k++) {
      await c.send(`/nick ren${i}n${k % 1000}\r\n`);
      await sleep(200);
    }
  });
}

/** Makes rooms with long topics, one after another, and lists them. */
function roomMaker(i: number): Promise<void> {
  return named(`rooms${i}`, async (c) => {
    for (let k = 0; !stopping && !c.closed; k++) {
      // One room at a time (users may keep several): each one made, given a big topic, left.
      await c.send(`/part\r\n/join #r${i}-${k % 5000}\r\n/topic ${"t".repeat(3900)}\r\n`);
      if (k % 10 === 0) await c.send("/rooms\r\n");
      await sleep(400);
    }
  });
}

function guard(task: Promise<void>): Promise<void> {
  return task.catch((err) => {
    clientErrors++;
    console.error(`soak: client task failed: ${err}`);
  });
}

/** Waits (bounded) for the server to log a collection after `since`; its heap, or NaN. */
async function reclaimAfter(since: number, ms: number): Promise<number> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const r = reclaims.find((x) => x.at >= since);
    if (r) return r.heapMiB;
    await sleep(100);
  }
  return NaN;
}

/** Sends `line` on `c` and waits (bounded) for a reply line containing `want`. */
async function ask(line: string, want: string, tls = false): Promise<void> {
  const got = Promise.withResolvers<void>();
  const onLine = (l: string) => l.includes(want) && got.resolve();
  const c = tls
    ? await Deno.connectTls({
      hostname: "127.0.0.1",
      port: tlsPort,
      caCerts: [pem.cert],
    })
    : await Deno.connect({ hostname: "127.0.0.1", port });
  const conn = new Conn(c as Deno.TcpConn, onLine);
  await conn.send(line);
  await Promise.race([got.promise, sleep(10_000)]);
  conn.close();
  await conn.done;
}

// The baseline: every path the run takes is warmed once (a TLS handshake, a password hash, a
// stored message), then a small burst of connections that leave makes the server collect,
// which logs the live heap of a server at rest; its RSS then is the start.
{
  await ask("warm-tls\r\n", "welcome, warm-tls", true);
  await ask("warm-reg\r\n/register warm-secret\r\nwarm message\r\n", "is yours now");
  const since = Date.now();
  const warm = await Promise.all(Array.from({ length: 24 }, (_, i) => wellBehaved(`warm${i}`)));
  for (const r of warm) r.conn.close();
  await Promise.all(warm.map((r) => r.conn.done));
  receivers.length = 0;
  await reclaimAfter(since, 15_000);
}
const heapStart = reclaims.at(-1)?.heapMiB ?? NaN;
const rssStart = await rssKiB(server.pid);

const started = performance.now();
const chatters = await Promise.all(
  Array.from({ length: POP.chatty }, (_, i) => wellBehaved(`chat${i}`)),
);
await Promise.all(Array.from({ length: POP.idle }, (_, i) => wellBehaved(`idle${i}`)));
for (const r of chatters) tasks.push(guard(chatty(r)));
for (let i = 0; i < POP.flooding; i++) tasks.push(guard(flooder(i)));
for (let i = 0; i < POP.slow; i++) tasks.push(guard(slowReader(i)));
for (let i = 0; i < POP.garbage; i++) tasks.push(guard(garbage(i)));
for (let i = 0; i < POP.reconnecting; i++) tasks.push(guard(reconnecting(i)));
for (let i = 0; i < POP.poisoning; i++) tasks.push(guard(poisoner(i)));
for (let i = 0; i < POP.silentTls; i++) tasks.push(guard(silentTls()));
for (let i = 0; i < POP.registering; i++) tasks.push(guard(registerer(i)));
for (let i = 0; i < POP.renaming; i++) tasks.push(guard(renamer(i)));
for (let i = 0; i < POP.roomMaking; i++) tasks.push(guard(roomMaker(i)));
// Halfway through, nobody reads the server's stdout for a while.
setTimeout(() => {
  const release = Promise.withResolvers<void>();
  stall = release.promise;
  setTimeout(() => {
    stall = undefined;
    release.resolve();
  }, STALL_MS);
}, SECONDS * 500);

const peakRss = { kib: rssStart };
while (performance.now() - started < SECONDS * 1000) {
  await sleep(500);
  peakRss.kib = Math.max(peakRss.kib, await rssKiB(server.pid));
}
stopping = true;
await Promise.all(tasks);

// Every well-behaved client should now hold every chatty message from the others.
const deadline = Date.now() + 10_000;
const complete = () =>
  receivers.every((r) =>
    [...sentBy].every(([from, n]) => from === r.name || (r.next.get(from) ?? 0) >= n)
  );
while (!complete() && Date.now() < deadline) await sleep(50);

let expected = 0;
for (const r of receivers) {
  for (const [from, n] of sentBy) if (from !== r.name) expected += n;
}
const delivered = receivers.reduce((a, r) => a + r.received, 0);
const lost = expected - delivered;
const duplicates = receivers.reduce((a, r) => a + r.duplicates, 0);
const droppedConnections = receivers.filter((r) => r.conn.closed).length;
const rssEnd = await rssKiB(server.pid);

const closedAt = Date.now();
for (const r of receivers) r.conn.close();
await Promise.all(receivers.map((r) => r.conn.done));
// Wait for the server to log its last disconnect (bounded).
const closeDeadline = Date.now() + 10_000;
while (openConnections !== 0 && Date.now() < closeDeadline) {
  await new Promise<void>((resolve) => {
    onLog = resolve;
    setTimeout(resolve, 100);
  });
}
// Memory should come back near where it started once everyone is gone: the server collects
// when a burst ends. The live heap must be back within a few MiB of the start. RSS keeps
// what glibc holds for reuse (scrypt's 16 MiB buffers on the hashing threads, socket
// buffers), so it gets a wider margin; a leak would pass both.
const HEAP_MARGIN_MIB = 8;
const RSS_MARGIN_KIB = 128 * 1024;
const heapEnd = await reclaimAfter(closedAt, 20_000);
const rssAfter = await rssKiB(server.pid);
const memoryBack = heapEnd <= heapStart + HEAP_MARGIN_MIB && rssAfter <= rssStart + RSS_MARGIN_KIB;

server.kill("SIGTERM");
const status = await server.status;
await serverOut;
const stderr = (await serverErr).trim();
if (stderr) serverErrors++;

const result = {
  seconds: SECONDS,
  population: POP,
  messagesSent: [...sentBy.values()].reduce((a, b) => a + b, 0),
  deliveriesExpected: expected,
  delivered,
  lost,
  duplicates,
  wellBehavedDropped: droppedConnections,
  clientErrors,
  serverErrors,
  openConnectionsAtEnd: openConnections,
  newcomersLockedOut: lockedOut,
  logLinesDropped: logDropped,
  memoryBack,
  serverRssKiB: { start: rssStart, peak: peakRss.kib, endLoaded: rssEnd, endIdle: rssAfter },
  serverHeapMiB: { start: heapStart, end: heapEnd },
  serverExitCode: status.code,
};
const pass = lost === 0 && duplicates === 0 && droppedConnections === 0 && clientErrors === 0 &&
  serverErrors === 0 && openConnections === 0 && status.code === 0 && lockedOut === 0 &&
  memoryBack;
await Deno.remove(dir, { recursive: true });

console.log(
  `soak: ${SECONDS} s against server.ts (default limits, --max-per-ip 0, --data, a TLS port)`,
);
console.log(
  `  population      ${Object.entries(POP).map(([k, v]) => `${v} ${k}`).join(", ")}`,
);
console.log(`  messages sent   ${result.messagesSent} (by chatty clients)`);
console.log(`  delivered       ${delivered} of ${expected} to well-behaved clients`);
console.log(`  lost            ${lost}`);
console.log(`  duplicates      ${duplicates}`);
console.log(`  errors          ${clientErrors} client, ${serverErrors} server`);
console.log(`  open at end     ${openConnections} connections`);
console.log(`  locked out      ${lockedOut} newcomers cut off as not reading`);
console.log(
  `  log             stdout stalled ${STALL_MS / 1000} s; ${logDropped} log lines dropped`,
);
console.log(
  `  server RSS      ${rssStart} KiB at start, ${peakRss.kib} KiB peak, ${rssAfter} KiB at the end`,
);
console.log(
  `  server heap     ${heapStart} MiB at start, ${heapEnd} MiB at the end (after a collection)` +
    (memoryBack
      ? ""
      : ` - not back: allowed ${HEAP_MARGIN_MIB} MiB of heap, ${RSS_MARGIN_KIB} KiB of RSS`),
);
console.log(`  result          ${pass ? "PASS" : "FAIL"}`);
if (stderr) console.log(`server stderr:\n${stderr}`);
if (serverErrorLines.length) console.log(`server errors:\n  ${serverErrorLines.join("\n  ")}`);
if (values.json) Deno.writeTextFileSync(values.json, JSON.stringify(result, null, 2) + "\n");
Deno.exit(pass ? 0 : 1);
