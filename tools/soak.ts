// The soak run (`deno task soak`): starts server.ts as its own process with the default
// limits and drives it from this process with a mixed population for a bounded time,
// then checks that well-behaved clients lost nothing and every connection was closed.
//
//   deno task soak [--seconds 60] [--json FILE]

import { parseArgs } from "node:util";
import { LineFramer } from "../lib/framing.ts";

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
const POP = { chatty: 12, idle: 40, flooding: 3, slow: 3, garbage: 3, reconnecting: 6 };
/** Chatty clients stay under the default flood limit (5 lines/s): one line per 300 ms. */
const CHAT_INTERVAL_MS = 300;

// --- the server process ----------------------------------------------------------------

const server = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "--allow-net",
    new URL("../server.ts", import.meta.url).pathname,
    "--host",
    "127.0.0.1",
    "--port",
    "0",
    // Every client comes from 127.0.0.1: lift the per-address cap, keep every other limit.
    "--max-per-ip",
    "0",
  ],
  stdin: "null",
  stdout: "piped",
  stderr: "piped",
}).spawn();

let openConnections = -1;
let serverErrors = 0;
let onLog: (() => void) | undefined;
const portReady = Promise.withResolvers<number>();
const serverOut = (async () => {
  let carry = "";
  for await (const chunk of server.stdout.pipeThrough(new TextDecoderStream())) {
    const lines = (carry + chunk).split("\n");
    carry = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith("listening on ")) portReady.resolve(Number(line.split(":").pop()));
      const m = / \((\d+) connections\)$/.exec(line);
      if (m) openConnections = Number(m[1]);
      if (/ error |failed/.test(line)) serverErrors++;
    }
    onLog?.();
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
const rssStart = await rssKiB(server.pid);

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

  static async open(onLine?: (line: string) => void): Promise<Conn> {
    return new Conn(await Deno.connect({ hostname: "127.0.0.1", port }), onLine);
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

async function reconnecting(i: number): Promise<void> {
  let round = 0;
  while (!stopping) {
    const name = `re${i}-${round++}`;
    const welcomed = Promise.withResolvers<void>();
    const c = await Conn.open((l) => {
      if (l.startsWith("* welcome")) welcomed.resolve();
    });
    await c.send(`${name}\r\nhello from ${name}\r\n`);
    await Promise.race([welcomed.promise, sleep(2000)]);
    await sleep(200 + (i * 37) % 300);
    await c.send(round % 2 ? "/quit\r\n" : "");
    c.close();
    await c.done;
  }
}

function guard(task: Promise<void>): Promise<void> {
  return task.catch((err) => {
    clientErrors++;
    console.error(`soak: client task failed: ${err}`);
  });
}

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
const rssAfter = await rssKiB(server.pid);

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
  serverRssKiB: { start: rssStart, peak: peakRss.kib, endLoaded: rssEnd, endIdle: rssAfter },
  serverExitCode: status.code,
};
const pass = lost === 0 && duplicates === 0 && droppedConnections === 0 && clientErrors === 0 &&
  serverErrors === 0 && openConnections === 0 && status.code === 0;

console.log(`soak: ${SECONDS} s against server.ts (default limits, --max-per-ip 0)`);
console.log(
  `  population      ${Object.entries(POP).map(([k, v]) => `${v} ${k}`).join(", ")}`,
);
console.log(`  messages sent   ${result.messagesSent} (by chatty clients)`);
console.log(`  delivered       ${delivered} of ${expected} to well-behaved clients`);
console.log(`  lost            ${lost}`);
console.log(`  duplicates      ${duplicates}`);
console.log(`  errors          ${clientErrors} client, ${serverErrors} server`);
console.log(`  open at end     ${openConnections} connections`);
console.log(
  `  server RSS      ${rssStart} KiB at start, ${peakRss.kib} KiB peak, ${rssAfter} KiB at the end`,
);
console.log(`  result          ${pass ? "PASS" : "FAIL"}`);
if (stderr) console.log(`server stderr:\n${stderr}`);
if (values.json) Deno.writeTextFileSync(values.json, JSON.stringify(result, null, 2) + "\n");
Deno.exit(pass ? 0 : 1);
