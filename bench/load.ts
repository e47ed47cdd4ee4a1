// The load process: many clients over loopback, each reading with conn.read into its own
// buffer and scanning bytes for '\n'. Runs one scenario (JSON config in argv) against a
// running server and prints one JSON result line; servers and tables are bench.ts's.

import { cpuSeconds, ownCpuSeconds, ownRssKiB, rssKiB } from "./proc.ts";
import {
  type Dialect,
  greeting,
  handshake,
  type Mark,
  markText,
  messageLine,
  parseMark,
} from "./wire.ts";

/** The kinds of scenario the load process runs. */
export type ScenarioKind = "connect" | "idle" | "fanout";

/** One scenario run, as bench.ts passes it to the load process. */
export interface LoadConfig {
  kind: ScenarioKind;
  dialect: Dialect;
  port: number;
  /** The server's process id, for its CPU time and RSS. */
  serverPid: number;
  /** The whole run (setup included) fails past this. */
  timeoutMs: number;
  /** Clients to connect and name; for fan-out, the members. */
  clients: number;
  /** Clients connecting at a time. */
  concurrency: number;
  /** idle: how long the named clients are held. */
  holdMs: number;
  /** fanout: members that send. */
  senders: number;
  /** fanout: messages per sender. */
  messages: number;
  /** fanout: most messages of one sender not yet received by every other member. */
  window: number;
  /**
   * A cluster run: every node (the first is `port` and `serverPid`); member i connects to node
   * i mod the count, and the server's CPU time is every node's.
   */
  nodes?: { port: number; pid: number }[];
  /** A cluster run: redis-server's process id, for its CPU time. */
  redisPid?: number;
}

/** What the load process prints: figures by name, and whether the run passed. */
export interface LoadResult {
  ok: boolean;
  /** Why it failed (timeout, lost messages, refused clients...). */
  failure?: string;
  figures: Record<string, number>;
  /** Unexpected lines and events (server errors, closed connections), the first few. */
  notes: string[];
}

const HOST = "127.0.0.1";
const MAX_LINE_BYTES = 1 << 16;
const MAX_NOTES = 10;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** State shared by every client of one run. */
class Run {
  readonly notes: string[] = [];
  noteCount = 0;
  /** Connections the server closed (or that failed) while we still wanted them. */
  lost = 0;
  /** Set when the run is over: closing connections is then expected. */
  stopping = false;
  /** Resolves with a reason at the first connection lost: the run stops there. */
  readonly firstLoss: Promise<string>;
  #lossSeen!: (why: string) => void;
  /** Receives each bench message a named client reads. */
  onMark: ((bot: Bot, mark: Mark, nowMs: number) => void) | undefined;

  constructor(readonly cfg: LoadConfig, readonly readBytes: number) {
    this.firstLoss = new Promise((resolve) => this.#lossSeen = resolve);
  }

  /** A connection we still wanted is gone. */
  connectionLost(why: string): void {
    if (this.stopping) return;
    this.lost++;
    this.note(why);
    this.#lossSeen(`connection lost: ${why}`);
  }

  note(text: string): void {
    if (this.stopping) return;
    if (this.noteCount++ < MAX_NOTES) this.notes.push(text);
  }
}

/** One bench client: reads lines by byte scan, handshakes, then reports bench messages. */
class Bot {
  readonly name: string;
  /** Resolves once named (IRC: registered and in the channel); rejects if refused. */
  readonly named: Promise<void>;
  readonly #run: Run;
  readonly #conn: Deno.TcpConn;
  readonly #buf: Uint8Array;
  readonly #mark: Mark = { sender: 0, seq: 0, sentUs: 0 };
  #carry = new Uint8Array(0);
  #carryLen = 0;
  #stage = 0;
  #isNamed = false;
  #closed = false;
  #out: string[] = [];
  #writing = false;
  #namedDone!: (err?: Error) => void;

  constructor(run: Run, readonly index: number, conn: Deno.TcpConn) {
    this.#run = run;
    this.#conn = conn;
    this.name = `b${index}`;
    this.#buf = new Uint8Array(run.readBytes);
    this.named = new Promise((resolve, reject) => {
      this.#namedDone = (err) => err ? reject(err) : resolve();
    });
    conn.setNoDelay(true);
    const hello = greeting(run.cfg.dialect, this.name);
    if (hello) this.send(hello);
    this.#read();
  }

  /** Whether the server has confirmed the name (IRC: registration, and the join). */
  get isNamed(): boolean {
    return this.#isNamed;
  }

  /** Queues text to send; writes go out one at a time, coalesced. */
  send(text: string): void {
    if (this.#closed) return;
    this.#out.push(text);
    if (!this.#writing) this.#flush();
  }

  /** Closes the connection (the run is over). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // Already closed.
    }
  }

  async #flush(): Promise<void> {
    this.#writing = true;
    try {
      while (this.#out.length > 0 && !this.#closed) {
        const bytes = encoder.encode(this.#out.length === 1 ? this.#out[0] : this.#out.join(""));
        this.#out.length = 0;
        let offset = 0;
        while (offset < bytes.length) offset += await this.#conn.write(bytes.subarray(offset));
      }
    } catch (err) {
      this.#gone(`write failed: ${err instanceof Error ? err.message : err}`);
    } finally {
      this.#writing = false;
    }
  }

  async #read(): Promise<void> {
    const buf = this.#buf;
    let why = "closed by the server";
    let last = 0;
    try {
      for (;;) {
        const n = await this.#conn.read(buf);
        if (n === null) {
          // The server's last words (a reason line, usually) are at the end of the last read.
          const tail = decoder.decode(buf.subarray(Math.max(0, last - 300), last)).trim();
          if (tail) why += ` after: ${tail.slice(tail.lastIndexOf("\n") + 1)}`;
          break;
        }
        last = n;
        this.#chunk(buf.subarray(0, n), performance.now());
      }
    } catch (err) {
      why = `read failed: ${err instanceof Error ? err.message : err}`;
    }
    this.#gone(why);
  }

  #gone(why: string): void {
    const wasOpen = !this.#closed;
    this.close();
    if (!this.#isNamed) this.#namedDone(new Error(`${this.name}: ${why} before it was named`));
    if (wasOpen) this.#run.connectionLost(`${this.name}: ${why}`);
  }

  /** Splits a chunk into lines; a line cut by the chunk's end waits in #carry. */
  #chunk(chunk: Uint8Array, now: number): void {
    let start = 0;
    if (this.#carryLen > 0) {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) {
        this.#keep(chunk, 0);
        return;
      }
      this.#keep(chunk.subarray(0, nl + 1), 0);
      this.#line(this.#carry, 0, this.#carryLen - 1, now);
      this.#carryLen = 0;
      start = nl + 1;
    }
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      this.#line(chunk, start, nl, now);
      start = nl + 1;
    }
    if (start < chunk.length) this.#keep(chunk, start);
  }

  #keep(chunk: Uint8Array, from: number): void {
    const need = this.#carryLen + chunk.length - from;
    if (need > MAX_LINE_BYTES) {
      this.#run.note(`${this.name}: a line over ${MAX_LINE_BYTES} bytes from the server`);
      this.#carryLen = 0;
      return;
    }
    if (need > this.#carry.length) {
      const grown = new Uint8Array(Math.max(need, 256));
      grown.set(this.#carry.subarray(0, this.#carryLen));
      this.#carry = grown;
    }
    this.#carry.set(chunk.subarray(from), this.#carryLen);
    this.#carryLen = need;
  }

  /** One line: bytes[start, end) without the LF. */
  #line(bytes: Uint8Array, start: number, end: number, now: number): void {
    if (end > start && bytes[end - 1] === 0x0d) end--;
    if (this.#isNamed) {
      if (parseMark(bytes, start, end, this.#mark)) {
        this.#run.onMark?.(this, this.#mark, now);
      } else if (this.#run.cfg.dialect === "irc") {
        this.#ircLine(bytes, start, end);
      } else if (bytes[start] === 0x21) { // "! ...": the server refused something
        this.#run.note(`${this.name}: ${decoder.decode(bytes.subarray(start, end))}`);
      }
      return;
    }
    const text = decoder.decode(bytes.subarray(start, end));
    const { dialect, kind } = this.#run.cfg;
    // IRC clients join the channel only where messages flow through it (fan-out).
    const [step, stage] = handshake(dialect, this.name, this.#stage, text, kind === "fanout");
    this.#stage = stage;
    if (step.send) this.send(step.send);
    if (step.error) {
      this.#run.note(`${this.name}: ${step.error}`);
      this.#namedDone(new Error(`${this.name} refused: ${step.error}`));
    } else if (step.named) {
      this.#isNamed = true;
      this.#namedDone();
    }
  }

  /** An IRC line that is not a bench message: answer PING, note errors, skip the rest. */
  #ircLine(bytes: Uint8Array, start: number, end: number): void {
    const b0 = bytes[start];
    if (b0 === 0x50 && bytes[start + 1] === 0x49) { // "PI": PING
      const text = decoder.decode(bytes.subarray(start, end));
      if (text.startsWith("PING ")) this.send(`PONG ${text.slice(5)}\r\n`);
      return;
    }
    if (b0 === 0x45) { // "E": ERROR
      this.#run.note(`${this.name}: ${decoder.decode(bytes.subarray(start, end))}`);
      return;
    }
    if (b0 !== 0x3a) return;
    const sp = bytes.subarray(start, end).indexOf(0x20);
    const d = bytes[start + sp + 1];
    if (sp > 0 && (d === 0x34 || d === 0x35) && bytes[start + sp + 4] === 0x20) { // 4xx, 5xx
      this.#run.note(`${this.name}: ${decoder.decode(bytes.subarray(start, end))}`);
    }
  }
}

/** Connects and names clients 0 .. count - 1, `concurrency` at a time; `times[i]`: ms to named. */
async function connectMany(
  run: Run,
  bots: Bot[],
  count: number,
  concurrency: number,
  times?: Float64Array,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const t0 = performance.now();
      const { nodes, port } = run.cfg;
      const conn = await Deno.connect({
        hostname: HOST,
        port: nodes ? nodes[i % nodes.length].port : port,
      });
      const bot = new Bot(run, i, conn);
      bots[i] = bot;
      await bot.named;
      if (times) times[i] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
}

/** The `q` quantile (nearest rank) of sorted values. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const round = (x: number, digits = 2) => Number(x.toFixed(digits));

/** CPU seconds of the processes (every node's summed; Redis's, NaN without) and the wall clock. */
interface Usage {
  load: number;
  server: number;
  redis: number;
  wallMs: number;
}

async function usage(run: Run): Promise<Usage> {
  const { nodes, serverPid, redisPid } = run.cfg;
  const pids = nodes ? nodes.map((n) => n.pid) : [serverPid];
  const [server, redis] = await Promise.all([
    Promise.all(pids.map(cpuSeconds)).then((s) => s.reduce((a, b) => a + b, 0)),
    redisPid === undefined ? NaN : cpuSeconds(redisPid),
  ]);
  return { load: ownCpuSeconds(), server, redis, wallMs: performance.now() };
}

/** CPU figures between two moments: seconds used and percent of one core. */
function cpuFigures(a: Usage, b: Usage): Record<string, number> {
  const wall = (b.wallMs - a.wallMs) / 1000;
  return {
    wallSec: round(wall, 3),
    serverCpuSec: round(b.server - a.server),
    loadCpuSec: round(b.load - a.load),
    serverCpuPct: wall > 0 ? Math.round((b.server - a.server) / wall * 100) : 0,
    loadCpuPct: wall > 0 ? Math.round((b.load - a.load) / wall * 100) : 0,
    ...(Number.isNaN(a.redis) ? {} : {
      redisCpuSec: round(b.redis - a.redis),
      redisCpuPct: wall > 0 ? Math.round((b.redis - a.redis) / wall * 100) : 0,
    }),
  };
}

/** A scenario: runs, and reports its figures at any time (also after a timeout). */
interface Scenario {
  phase: string;
  run(): Promise<void>;
  figures(): Record<string, number>;
  /** Why the finished run failed, if it did. */
  verdict(): string | undefined;
}

/** Scenario 1: connect and name clients, a few at a time. */
class ConnectScenario implements Scenario {
  phase = "connecting";
  readonly #run: Run;
  readonly #bots: Bot[] = [];
  readonly #times: Float64Array;
  #cpu: Record<string, number> = {};

  constructor(run: Run) {
    this.#run = run;
    this.#times = new Float64Array(run.cfg.clients);
  }

  async run(): Promise<void> {
    const { clients, concurrency } = this.#run.cfg;
    const a = await usage(this.#run);
    await connectMany(this.#run, this.#bots, clients, concurrency, this.#times);
    this.#cpu = cpuFigures(a, await usage(this.#run));
    this.phase = "done";
  }

  figures(): Record<string, number> {
    const named = this.#times.filter((t) => t > 0).sort();
    const wall = this.#cpu.wallSec;
    return {
      clients: this.#run.cfg.clients,
      named: named.length,
      connectsPerSec: wall ? Math.round(named.length / wall) : NaN,
      namedP50Ms: round(quantile(named, 0.5)),
      namedP99Ms: round(quantile(named, 0.99)),
      ...this.#cpu,
    };
  }

  verdict(): string | undefined {
    return this.#run.lost > 0 ? `${this.#run.lost} connections lost` : undefined;
  }
}

/** Tracks bench messages from senders to members: order, loss, duplicates, latency. */
class FanoutTracker {
  readonly #bots: Bot[];
  readonly #senders: number;
  readonly #messages: number;
  readonly #window: number;
  readonly #dialect: Dialect;
  readonly #sent: Int32Array;
  readonly #acked: Int32Array;
  /** Members that have each message (sender * messages + seq). */
  readonly #have: Uint32Array;
  /** Whether member r has message (r * senders + sender) * messages + seq. */
  readonly #seen: Uint8Array;
  readonly latencies: Float64Array;
  delivered = 0;
  duplicates = 0;
  stray = 0;
  #ackedTotal = 0;
  lastDeliveryMs = 0;
  /** Round markers per member, for the barriers before and after. */
  #markers: Int32Array;
  #markersDone = 0;
  #markerRound = 0;
  #barrierDone: (() => void) | undefined;
  #allAcked: (() => void) | undefined;

  constructor(bots: Bot[], senders: number, messages: number, window: number, dialect: Dialect) {
    this.#bots = bots;
    this.#senders = senders;
    this.#messages = messages;
    this.#window = window;
    this.#dialect = dialect;
    this.#sent = new Int32Array(senders);
    this.#acked = new Int32Array(senders);
    this.#have = new Uint32Array(senders * messages);
    this.#seen = new Uint8Array(bots.length * senders * messages);
    this.latencies = new Float64Array(bots.length * senders * messages);
    this.#markers = new Int32Array(bots.length);
  }

  /** Deliveries every member should get: each message to every member but its sender. */
  get expected(): number {
    return this.#senders * this.#messages * (this.#bots.length - 1);
  }

  /**
   * Each sender sends a marker and this resolves when every member has every other
   * sender's marker: all output queued before it (join notices, stray lines) is in.
   */
  barrier(): Promise<void> {
    this.#markerRound++;
    this.#markers.fill(0);
    this.#markersDone = this.#senders === 1 ? 1 : 0; // a lone sender waits for no one
    const done = new Promise<void>((resolve) => this.#barrierDone = resolve);
    if (this.#markersDone === this.#bots.length) this.#barrierDone!();
    const text = (s: number) => markText(s, this.#messages + this.#markerRound - 1, 0);
    for (let s = 0; s < this.#senders; s++) {
      this.#bots[s].send(messageLine(this.#dialect, text(s)));
    }
    return done;
  }

  /** Sends every message, windowed; resolves when every member has every message. */
  send(): Promise<void> {
    const done = new Promise<void>((resolve) => this.#allAcked = resolve);
    if (this.expected === 0) this.#allAcked!();
    for (let s = 0; s < this.#senders; s++) this.#pump(s);
    return done;
  }

  /** Handles a bench message member `bot` read at `nowMs`. */
  readonly onMark = (bot: Bot, mark: Mark, nowMs: number): void => {
    const r = bot.index;
    const { sender, seq } = mark;
    if (sender >= this.#senders || sender === r) {
      this.stray++;
      return;
    }
    if (seq >= this.#messages) {
      if (seq !== this.#messages + this.#markerRound - 1) return; // an earlier round's marker
      const want = r < this.#senders ? this.#senders - 1 : this.#senders;
      if (++this.#markers[r] === want && ++this.#markersDone === this.#bots.length) {
        this.#barrierDone?.();
      }
      return;
    }
    const k = (r * this.#senders + sender) * this.#messages + seq;
    if (this.#seen[k]) {
      this.duplicates++;
      return;
    }
    this.#seen[k] = 1;
    this.latencies[this.delivered++] = nowMs - mark.sentUs / 1000;
    this.lastDeliveryMs = nowMs;
    if (++this.#have[sender * this.#messages + seq] === this.#bots.length - 1) {
      this.#acked[sender]++;
      if (++this.#ackedTotal === this.#senders * this.#messages) {
        this.#allAcked?.();
      } else {
        this.#pump(sender);
      }
    }
  };

  /** Sends what sender `s`'s window allows, in one write. */
  #pump(s: number): void {
    let out = "";
    const sentUs = Math.round(performance.now() * 1000);
    while (this.#sent[s] < this.#messages && this.#sent[s] - this.#acked[s] < this.#window) {
      out += messageLine(this.#dialect, markText(s, this.#sent[s]++, sentUs));
    }
    if (out) this.#bots[s].send(out);
  }
}

/** Scenario 2: many named idle clients held a while; the server's RSS per client. */
class IdleScenario implements Scenario {
  phase = "starting";
  readonly #run: Run;
  readonly #bots: Bot[] = [];
  #rssBefore = NaN;
  #rssDuring = NaN;
  #setupSec = NaN;
  #cpu: Record<string, number> = {};

  constructor(run: Run) {
    this.#run = run;
  }

  async run(): Promise<void> {
    const { clients, concurrency, holdMs, serverPid, dialect } = this.#run.cfg;
    this.#rssBefore = await rssKiB(serverPid);
    const t0 = performance.now();
    this.phase = "connecting";
    await connectMany(this.#run, this.#bots, clients, concurrency);
    if (dialect === "linechat") {
      // Each join was announced to everyone named before it: wait until that is read.
      // (IRC registration announces nothing, and these IRC clients join no channel.)
      this.phase = "waiting for the join notices to drain";
      const tracker = new FanoutTracker(this.#bots, 1, 0, 1, dialect);
      this.#run.onMark = tracker.onMark;
      await tracker.barrier();
    }
    this.#setupSec = (performance.now() - t0) / 1000;
    this.phase = "holding";
    const a = await usage(this.#run);
    const end = performance.now() + holdMs;
    const samples = Math.max(1, Math.ceil(holdMs / 100));
    this.#rssDuring = 0;
    for (let i = 0; i < samples && this.#run.lost === 0; i++) {
      this.#rssDuring = Math.max(this.#rssDuring, await rssKiB(serverPid));
      const left = end - performance.now();
      if (left <= 0) break;
      await new Promise((r) => setTimeout(r, Math.min(100, left)));
    }
    this.#rssDuring = Math.max(this.#rssDuring, await rssKiB(serverPid));
    this.#cpu = cpuFigures(a, await usage(this.#run));
    this.phase = "done";
  }

  figures(): Record<string, number> {
    const { clients } = this.#run.cfg;
    return {
      clients,
      named: this.#bots.filter((b) => b.isNamed).length,
      setupSec: round(this.#setupSec),
      rssBeforeKiB: this.#rssBefore,
      rssDuringKiB: this.#rssDuring,
      rssPerClientKiB: round((this.#rssDuring - this.#rssBefore) / clients),
      loadRssKiB: ownRssKiB(),
      errors: this.#run.lost,
      ...this.#cpu,
    };
  }

  verdict(): string | undefined {
    return this.#run.lost > 0 ? `${this.#run.lost} connections lost while held` : undefined;
  }
}

/** Scenarios 3 and 4: members, some of them senders; windowed fan-out to everyone. */
class FanoutScenario implements Scenario {
  phase = "starting";
  readonly #run: Run;
  readonly #bots: Bot[] = [];
  #tracker: FanoutTracker | undefined;
  #cpu: Record<string, number> = {};
  #startMs = NaN;

  constructor(run: Run) {
    this.#run = run;
  }

  async run(): Promise<void> {
    const { clients, concurrency, senders, messages, window, dialect } = this.#run.cfg;
    this.phase = "connecting";
    await connectMany(this.#run, this.#bots, clients, concurrency);
    const tracker = new FanoutTracker(this.#bots, senders, messages, window, dialect);
    this.#tracker = tracker;
    this.#run.onMark = tracker.onMark;
    this.phase = "warming up";
    await tracker.barrier();
    this.phase = "sending";
    const a = await usage(this.#run);
    this.#startMs = a.wallMs;
    await tracker.send();
    const b = await usage(this.#run);
    this.#cpu = cpuFigures(a, { ...b, wallMs: tracker.lastDeliveryMs });
    this.phase = "checking for duplicates";
    await tracker.barrier();
    this.phase = "done";
  }

  figures(): Record<string, number> {
    const { clients, senders, messages, window } = this.#run.cfg;
    const t = this.#tracker;
    const named = this.#bots.filter((b) => b.isNamed).length;
    const base = { members: clients, senders, messages, window, named };
    if (!t) return base;
    const lat = t.latencies.slice(0, t.delivered).sort();
    const seconds = (t.lastDeliveryMs - this.#startMs) / 1000;
    return {
      ...base,
      deliveries: t.delivered,
      deliveriesPerSec: seconds > 0 ? Math.round(t.delivered / seconds) : NaN,
      messagesPerSec: seconds > 0 ? Math.round(senders * messages / seconds) : NaN,
      latencyP50Ms: round(quantile(lat, 0.5)),
      latencyP90Ms: round(quantile(lat, 0.9)),
      latencyP99Ms: round(quantile(lat, 0.99)),
      latencyMaxMs: round(lat.length ? lat[lat.length - 1] : NaN),
      lost: t.expected - t.delivered,
      duplicates: t.duplicates,
      stray: t.stray,
      ...this.#cpu,
    };
  }

  verdict(): string | undefined {
    const f = this.figures();
    if (f.lost > 0) return `${f.lost} deliveries lost`;
    if (f.duplicates > 0) return `${f.duplicates} duplicate deliveries`;
    if (this.#run.lost > 0) return `${this.#run.lost} connections lost`;
    return undefined;
  }
}

const READ_BYTES: Record<ScenarioKind, number> = { connect: 4096, idle: 4096, fanout: 16384 };

/** Runs one scenario against the server, bounded by `cfg.timeoutMs`. */
export async function runLoad(cfg: LoadConfig): Promise<LoadResult> {
  const run = new Run(cfg, READ_BYTES[cfg.kind]);
  const scenario: Scenario = cfg.kind === "connect"
    ? new ConnectScenario(run)
    : cfg.kind === "idle"
    ? new IdleScenario(run)
    : new FanoutScenario(run);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(
      () => resolve(`timed out after ${cfg.timeoutMs / 1000} s while ${scenario.phase}`),
      cfg.timeoutMs,
    );
  });
  let failure: string | undefined;
  try {
    failure = await Promise.race([
      scenario.run().then(() => scenario.verdict()),
      timeout,
      run.firstLoss.then((why) => `${why} (while ${scenario.phase})`),
    ]);
  } catch (err) {
    failure = `failed while ${scenario.phase}: ${err instanceof Error ? err.message : err}`;
  } finally {
    clearTimeout(timer);
  }
  run.stopping = true;
  return {
    ok: failure === undefined,
    failure,
    figures: scenario.figures(),
    notes: run.noteCount > MAX_NOTES
      ? [...run.notes, `... and ${run.noteCount - MAX_NOTES} more`]
      : run.notes,
  };
}

if (import.meta.main) {
  const cfg = JSON.parse(Deno.args[0]) as LoadConfig;
  const result = await runLoad(cfg);
  console.log(JSON.stringify(result));
  // Open connections are the server's to close; the process exits without waiting.
  Deno.exit(0);
}
