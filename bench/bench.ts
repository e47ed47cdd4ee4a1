// `deno task bench`: the driver. Per scenario it starts a fresh server process (ours, and
// ngIRCd with --compare ngircd; for the cluster scenario, also our nodes on a throwaway
// Redis), runs the separate load process against it, and prints the table. The clients
// live in load.ts, the server launchers in servers.ts.

import { parseFlags, UsageError } from "../lib/protocol/cli.ts";
import type { LoadConfig, LoadResult, ScenarioKind } from "./load.ts";
import { machine } from "./proc.ts";
import {
  findProgram,
  linechatRevision,
  ngircdVersion,
  ServerProcess,
  type Target,
} from "./servers.ts";

const HELP = `deno task bench [options]: linechat's benchmark (see docs/performance.md)

Starts the server as its own process for each scenario and drives it over loopback from
a separate load process; prints a table of the figures.

options:
  --scenario LIST          scenarios to run, by number or name (default: all)
                           1 connect, 2 idle, 3 fanout, 4 fanout-large, 5 cluster
  --compare ngircd         run each scenario against ngIRCd too, side by side
  --json FILE              also write every figure to FILE
  --timeout SECONDS        time limit of each scenario run (default: per scenario)
  --profile DIR            run linechat's server with --cpu-prof, one profile per
                           scenario in DIR/KEY/ (cluster: DIR/cluster-redis3/n1/ ...;
                           summarize: bench/profile.ts FILE)
  --connect-clients N      scenario 1: clients to connect and name (2000)
  --connect-concurrency N  scenario 1: clients connecting at a time (10)
  --idle-clients N         scenario 2: clients held (10000)
  --idle-hold SECONDS      scenario 2: how long they are held (5)
  --fanout-members N       scenario 3: members (200); also --fanout-senders (10),
                           --fanout-messages (300, per sender), --fanout-window (8)
  --large-members N        scenario 4: members (1000); also --large-senders (2),
                           --large-messages (200), --large-window (4)
                           (scenario 5 runs scenario 3's sizes on one node, then on one
                           and on three nodes sharing a redis-server it starts, members
                           spread over the nodes; skipped where redis-server is missing)
  --help                   show this help`;

/**
 * Clients connecting at a time while a scenario sets up (scenarios 2 to 4). ngIRCd's
 * listen backlog is small: with more in flight its kernel queue overflows and resets.
 */
const SETUP_CONCURRENCY = 10;
const LOAD_TS = new URL("./load.ts", import.meta.url).pathname;
/** Extra time the load process gets past its own time limit before it is killed. */
const LOAD_GRACE_MS = 20_000;

/**
 * What a scenario runs against: linechat alone, ngIRCd, or linechat's nodes (one or three)
 * sharing a redis-server the bench starts.
 */
type Setup = Target | "redis1" | "redis3";

/** Nodes of each Redis setup. */
const NODES: Partial<Record<Setup, number>> = { redis1: 1, redis3: 3 };

/** How a figure compares: which way is better, for the ratio column. */
type Better = "higher" | "lower" | "";

/** One row of the table: a figure of the load result, labelled. */
interface Row {
  label: string;
  figure: string;
  better: Better;
  digits?: number;
}

/** A scenario as the driver runs it. */
interface ScenarioDef {
  id: number;
  key: string;
  kind: ScenarioKind;
  title: string;
  config: Omit<LoadConfig, "dialect" | "port" | "serverPid">;
  rows: Row[];
  /** Run on one node, then on nodes sharing Redis, instead of against ngIRCd. */
  cluster?: boolean;
}

const cpuRows: Row[] = [
  { label: "server CPU, % of one core", figure: "serverCpuPct", better: "" },
  { label: "load CPU, % of one core", figure: "loadCpuPct", better: "" },
];

const fanoutRows: Row[] = [
  { label: "deliveries/s", figure: "deliveriesPerSec", better: "higher" },
  { label: "latency p50 ms", figure: "latencyP50Ms", better: "lower", digits: 2 },
  { label: "latency p90 ms", figure: "latencyP90Ms", better: "lower", digits: 2 },
  { label: "latency p99 ms", figure: "latencyP99Ms", better: "lower", digits: 2 },
  { label: "latency max ms", figure: "latencyMaxMs", better: "lower", digits: 2 },
  { label: "lost", figure: "lost", better: "" },
  { label: "duplicates", figure: "duplicates", better: "" },
  { label: "time s", figure: "wallSec", better: "lower", digits: 2 },
  ...cpuRows,
];

/** Scenario 5: the fan-out's figures, and what the Redis behind the nodes costs. */
const clusterRows: Row[] = [
  ...fanoutRows.slice(0, 1),
  { label: "messages/s (sent, each to all)", figure: "messagesPerSec", better: "higher" },
  ...fanoutRows.slice(1, -2),
  { label: "nodes' CPU, % of one core (sum)", figure: "serverCpuPct", better: "" },
  { label: "Redis CPU, % of one core", figure: "redisCpuPct", better: "" },
  cpuRows[1],
];

function scenarios(v: Record<string, string | boolean | undefined>): ScenarioDef[] {
  const n = (flag: string) => positiveInt(flag, v[flag] as string);
  const timeout = v.timeout === undefined
    ? undefined
    : positiveInt("timeout", v.timeout as string) * 1000;
  const base = { holdMs: 0, senders: 0, messages: 0, window: 0 };
  const fanout = (prefix: string, id: number, key: string): ScenarioDef => {
    const [members, senders, messages, window] = ["members", "senders", "messages", "window"]
      .map((k) => n(`${prefix}-${k}`));
    return {
      id,
      key,
      kind: "fanout",
      title: `fan-out: ${members} members, ${senders} senders x ${messages} messages, ` +
        `window ${window}`,
      config: {
        kind: "fanout",
        clients: members,
        concurrency: SETUP_CONCURRENCY,
        holdMs: 0,
        senders: Math.min(senders, members),
        messages,
        window,
        timeoutMs: timeout ?? 60_000 + members * 20,
      },
      rows: fanoutRows,
    };
  };
  const scenario3 = fanout("fanout", 3, "fanout");
  const connectClients = n("connect-clients");
  const idleClients = n("idle-clients");
  const holdMs = Number(v["idle-hold"]) * 1000;
  if (!(holdMs >= 0)) throw new UsageError(`invalid --idle-hold "${v["idle-hold"]}"`);
  return [
    {
      id: 1,
      key: "connect",
      kind: "connect",
      title: `connect and name ${connectClients} clients, ` +
        `${n("connect-concurrency")} at a time`,
      config: {
        ...base,
        kind: "connect",
        clients: connectClients,
        concurrency: n("connect-concurrency"),
        timeoutMs: timeout ?? 30_000 + connectClients * 15,
      },
      rows: [
        { label: "connects/s", figure: "connectsPerSec", better: "higher" },
        { label: "time to named p50 ms", figure: "namedP50Ms", better: "lower", digits: 2 },
        { label: "time to named p99 ms", figure: "namedP99Ms", better: "lower", digits: 2 },
        ...cpuRows,
      ],
    },
    {
      id: 2,
      key: "idle",
      kind: "idle",
      title: `${idleClients} named idle clients held ${holdMs / 1000} s`,
      config: {
        ...base,
        kind: "idle",
        clients: idleClients,
        concurrency: SETUP_CONCURRENCY,
        holdMs,
        senders: 1,
        timeoutMs: timeout ?? 60_000 + idleClients * 15 + holdMs,
      },
      rows: [
        {
          label: "server RSS per client KiB",
          figure: "rssPerClientKiB",
          better: "lower",
          digits: 2,
        },
        { label: "server RSS before KiB", figure: "rssBeforeKiB", better: "lower" },
        { label: "server RSS during KiB", figure: "rssDuringKiB", better: "lower" },
        { label: "connections lost", figure: "errors", better: "lower" },
        { label: "setup s (connect, name, drain)", figure: "setupSec", better: "lower", digits: 1 },
        { label: "server CPU while idle, %", figure: "serverCpuPct", better: "" },
      ],
    },
    scenario3,
    fanout("large", 4, "fanout-large"),
    {
      ...scenario3,
      id: 5,
      key: "cluster",
      title: `cluster: ${scenario3.title}; members spread over the nodes`,
      rows: clusterRows,
      cluster: true,
    },
  ];
}

function positiveInt(flag: string, text: string): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(n > 0)) throw new UsageError(`invalid --${flag} "${text}": use a whole number above 0`);
  return n;
}

/** Picks scenarios by number or name from a comma-separated list. */
function select(all: ScenarioDef[], list: string | undefined): ScenarioDef[] {
  if (!list) return all;
  const picked = list.split(",").map((s) => s.trim()).filter(Boolean).map((s) => {
    const def = all.find((d) => String(d.id) === s || d.key === s);
    if (!def) {
      throw new UsageError(
        `unknown scenario "${s}": use ${all.map((d) => `${d.id} or ${d.key}`).join(", ")}`,
      );
    }
    return def;
  });
  return all.filter((d) => picked.includes(d));
}

/**
 * Runs the load process for one scenario against running servers: one, or the nodes of a
 * cluster on `redis`.
 */
async function runLoad(
  def: ScenarioDef,
  servers: ServerProcess[],
  redis?: ServerProcess,
): Promise<LoadResult> {
  const [server] = servers;
  const cfg: LoadConfig = {
    ...def.config,
    dialect: server.target === "ngircd" ? "irc" : "linechat",
    port: server.port,
    serverPid: server.pid,
    ...(redis
      ? { nodes: servers.map((s) => ({ port: s.port, pid: s.pid })), redisPid: redis.pid }
      : {}),
  };
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", "--allow-run=cat", LOAD_TS, JSON.stringify(cfg)],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const killer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch {
      // Exited meanwhile.
    }
  }, cfg.timeoutMs + LOAD_GRACE_MS);
  const out = await child.output();
  clearTimeout(killer);
  const text = new TextDecoder().decode(out.stdout).trim();
  const last = text.slice(text.lastIndexOf("\n") + 1);
  let result: LoadResult;
  try {
    result = JSON.parse(last);
  } catch {
    const err = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-3).join(" / ");
    result = {
      ok: false,
      failure: `load process exited with code ${out.code}${err ? `: ${err}` : ""}`,
      figures: {},
      notes: [],
    };
  }
  const died = (await Promise.all([...servers, redis].map((s) => s?.exitReason())))
    .filter(Boolean).join("; ");
  if (died) {
    result.ok = false;
    result.failure = `${died}${result.failure ? `; ${result.failure}` : ""}`;
  }
  return result;
}

/** How each server was started, for the report (filled as they start). */
const settings: Partial<Record<Setup | "redis", string>> = {};

/** Where the programs the bench may start are; undefined where one is not installed. */
interface Programs {
  ngircd?: string;
  redis?: string;
}

/** One scenario against one setup: fresh servers each time. */
async function runOne(
  def: ScenarioDef,
  setup: Setup,
  programs: Programs,
  profileDir: string | undefined,
): Promise<LoadResult> {
  let dir: string | undefined;
  try {
    await using started = new AsyncDisposableStack();
    const nodes = NODES[setup];
    if (nodes !== undefined) {
      // The nodes are disposed of before the Redis they use.
      const redis = started.use(await ServerProcess.redis(programs.redis!));
      settings.redis = redis.settings;
      const servers: ServerProcess[] = [];
      for (let i = 1; i <= nodes; i++) {
        const node = { engine: `redis://127.0.0.1:${redis.port}`, name: `n${i}` };
        const prof = profileDir && `${profileDir}/${node.name}`;
        servers.push(started.use(await ServerProcess.linechat(prof, node)));
      }
      settings[setup] = servers[0].settings.replace(/\d+ --node n1$/, "PORT --node n1") +
        (nodes > 1 ? `; ${servers.slice(1).map((_, i) => `n${i + 2}`).join(", ")} alike` : "");
      return await runLoad(def, servers, redis);
    }
    let server: ServerProcess;
    if (setup === "ngircd") {
      dir = await Deno.makeTempDir({ prefix: "linechat-bench-ngircd-" });
      server = started.use(await ServerProcess.ngircd(programs.ngircd!, dir));
    } else {
      server = started.use(await ServerProcess.linechat(profileDir));
    }
    settings[setup] = server.settings;
    return await runLoad(def, [server]);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    return { ok: false, failure: `could not run: ${why}`, figures: {}, notes: [] };
  } finally {
    if (dir) await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** A figure formatted for the table. */
function fmt(x: number | undefined, digits = 0): string {
  if (x === undefined || !Number.isFinite(x)) return "-";
  return x.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** ours / theirs, as `1.23x`, for figures where a ratio means something. */
function ratio(ours: number | undefined, theirs: number | undefined, better: Better): string {
  if (!better || ours === undefined || theirs === undefined) return "";
  if (!Number.isFinite(ours) || !Number.isFinite(theirs) || theirs === 0) return "";
  return `${(ours / theirs).toFixed(2)}x`;
}

/** Results of every run: scenario key -> setup -> result. */
type Results = Map<string, Partial<Record<Setup, LoadResult>>>;

/** A target of issue 7 and whether this run met it. */
interface TargetCheck {
  scenario: number;
  goal: string;
  value: string;
  met: boolean | undefined;
}

function checkTargets(defs: ScenarioDef[], results: Results, compared: boolean): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const fig = (key: string, t: Setup, f: string) => results.get(key)?.[t]?.figures[f];
  const vsNgircd = (id: number, key: string, figure: string, factor: number, goal: string) => {
    const ours = fig(key, "linechat", figure);
    const theirs = fig(key, "ngircd", figure);
    if (!compared) {
      checks.push({ scenario: id, goal, value: "no ngIRCd", met: undefined });
      return;
    }
    if (ours === undefined || theirs === undefined || !(ours > 0 && theirs > 0)) {
      checks.push({ scenario: id, goal, value: "-", met: false });
      return;
    }
    const r = ours / theirs;
    checks.push({ scenario: id, goal, value: `${r.toFixed(2)}x`, met: r >= factor });
  };
  const own = (
    id: number,
    key: string,
    figure: string,
    goal: string,
    ok: (x: number) => boolean,
    setup: Setup = "linechat",
  ) => {
    const x = fig(key, setup, figure);
    checks.push({
      scenario: id,
      goal,
      value: x === undefined ? "-" : fmt(x, Number.isInteger(x) ? 0 : 2),
      met: x === undefined ? false : ok(x),
    });
  };
  for (const def of defs) {
    switch (def.id) {
      case 1:
        vsNgircd(1, def.key, "connectsPerSec", 1, "connects/s >= ngIRCd's");
        break;
      case 2:
        own(2, def.key, "errors", "held without errors", (x) => x === 0);
        own(2, def.key, "rssPerClientKiB", "RSS per idle client <= 8 KiB", (x) => x <= 8);
        break;
      case 3:
        vsNgircd(3, def.key, "deliveriesPerSec", 2, "deliveries/s >= 2x ngIRCd's");
        own(3, def.key, "latencyP99Ms", "latency p99 <= 20 ms", (x) => x <= 20);
        own(3, def.key, "lost", "0 lost", (x) => x === 0);
        break;
      case 4:
        vsNgircd(4, def.key, "deliveriesPerSec", 1.5, "deliveries/s >= 1.5x ngIRCd's");
        own(4, def.key, "lost", "0 lost", (x) => x === 0);
        break;
      case 5:
        if (!results.get(def.key)?.redis3) break; // skipped: no redis-server
        own(5, def.key, "lost", "0 lost on 3 nodes", (x) => x === 0, "redis3");
        own(5, def.key, "duplicates", "0 duplicates on 3 nodes", (x) => x === 0, "redis3");
        break;
    }
  }
  return checks;
}

/** The setups a scenario runs against, in the table's column order. */
function setupsOf(def: ScenarioDef, targets: Target[]): Setup[] {
  return def.cluster ? ["linechat", "redis1", "redis3"] : targets;
}

/** A setup's column heading: linechat alone is "1 node" next to nodes sharing Redis. */
function heading(setup: Setup, def: ScenarioDef): string {
  const headings: Record<Setup, string> = {
    linechat: def.cluster ? "1 node" : "linechat",
    ngircd: "ngIRCd",
    redis1: "1 on Redis",
    redis3: "3 on Redis",
  };
  return headings[setup];
}

/**
 * Prints each scenario's figures, one column per setup and a ratio (linechat / ngIRCd; for
 * the cluster, 3 nodes on Redis / 1 node), then the targets.
 */
function printTable(
  defs: ScenarioDef[],
  results: Results,
  targets: Target[],
  checks: TargetCheck[],
  skipped: Map<string, string>,
): void {
  const row = (cells: string[], ratioAt = -1) =>
    console.log(
      cells.map((c, i) => i === 0 ? c.padEnd(36) : c.padStart(i === ratioAt ? 8 : 12))
        .join(" ").trimEnd(),
    );
  let header = "";
  for (const def of defs) {
    const setups = setupsOf(def, targets);
    const ratioAt = setups.length > 1 ? setups.length + 1 : -1;
    const head = ["", ...setups.map((s) => heading(s, def)), ...(ratioAt > 0 ? ["ratio"] : [])];
    if (head.join("|") !== header) {
      if (header) console.log("");
      row(head, ratioAt);
      header = head.join("|");
    }
    console.log(`${def.id}. ${def.title}`);
    const why = skipped.get(def.key);
    if (why) {
      console.log(`   skipped: ${why}`);
      continue;
    }
    const bySetup = results.get(def.key) ?? {};
    for (const r of def.rows) {
      const values = setups.map((s) => bySetup[s]?.figures[r.figure]);
      const [ours, theirs] = def.cluster ? [values[2], values[0]] : values;
      row(
        [
          `   ${r.label}`,
          ...values.map((v) => fmt(v, r.digits)),
          ...(ratioAt > 0 ? [ratio(ours, theirs, r.better)] : []),
        ],
        ratioAt,
      );
    }
    for (const s of setups) {
      const res = bySetup[s];
      const name = heading(s, def);
      if (res && !res.ok) console.log(`   ${name} FAILED: ${res.failure}`);
      for (const note of res?.notes ?? []) console.log(`   ${name} note: ${note}`);
    }
  }
  if (checks.length === 0) return;
  console.log("\ntargets (issues 7 and 14)");
  for (const c of checks) {
    const verdict = c.met === undefined ? "n/a" : c.met ? "met" : "MISSED";
    row([`   ${c.scenario}. ${c.goal}`, c.value, verdict]);
  }
}

async function main(args: string[]): Promise<number> {
  const { values } = parseFlags(args, {
    scenario: { type: "string" },
    compare: { type: "string" },
    json: { type: "string" },
    timeout: { type: "string" },
    profile: { type: "string" },
    "connect-clients": { type: "string", default: "2000" },
    "connect-concurrency": { type: "string", default: "10" },
    "idle-clients": { type: "string", default: "10000" },
    "idle-hold": { type: "string", default: "5" },
    "fanout-members": { type: "string", default: "200" },
    "fanout-senders": { type: "string", default: "10" },
    "fanout-messages": { type: "string", default: "300" },
    "fanout-window": { type: "string", default: "8" },
    "large-members": { type: "string", default: "1000" },
    "large-senders": { type: "string", default: "2" },
    "large-messages": { type: "string", default: "200" },
    "large-window": { type: "string", default: "4" },
    help: { type: "boolean", default: false },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.compare !== undefined && values.compare !== "ngircd") {
    throw new UsageError(`--compare takes "ngircd", not "${values.compare}"`);
  }
  const defs = select(scenarios(values), values.scenario);
  const targets: Target[] = ["linechat"];
  const programs: Programs = {};
  let ngircdVer: string | undefined;
  if (values.compare === "ngircd") {
    const ngircd = programs.ngircd = findProgram("ngircd");
    if (ngircd) {
      targets.push("ngircd");
      ngircdVer = await ngircdVersion(ngircd);
    } else {
      console.log(
        "ngIRCd is not installed, so linechat runs alone. To compare, install it:\n" +
          "  apt-get install ngircd   (Debian/Ubuntu; then run this again)\n",
      );
    }
  }
  const m = await machine();
  const revision = await linechatRevision();
  console.log(
    `machine: ${m.cpus} CPUs (${m.cpu}), ${m.memoryGiB} GiB, Linux ${m.kernel}, ` +
      `Deno ${m.deno}; linechat ${revision}${ngircdVer ? `; ${ngircdVer}` : ""}`,
  );

  if (defs.some((d) => d.cluster)) programs.redis = findProgram("redis-server");

  const results: Results = new Map();
  /** Scenarios not run, and why. */
  const skipped = new Map<string, string>();
  for (const def of defs) {
    const bySetup: Partial<Record<Setup, LoadResult>> = {};
    results.set(def.key, bySetup);
    if (def.cluster && !programs.redis) {
      skipped.set(def.key, "no redis-server (apt-get install redis-server)");
      console.error(`${def.id}. ${def.key}: skipped: no redis-server`);
      continue;
    }
    for (const setup of setupsOf(def, targets)) {
      console.error(`running ${def.id}. ${def.title} against ${heading(setup, def)} ...`);
      const t0 = performance.now();
      const profile = values.profile && setup !== "ngircd"
        ? `${values.profile}/${def.key}${setup === "linechat" ? "" : `-${setup}`}`
        : undefined;
      bySetup[setup] = await runOne(def, setup, programs, profile);
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      console.error(`  ${bySetup[setup]!.ok ? "done" : "FAILED"} in ${secs} s`);
    }
  }
  const started: Record<Setup | "redis", string> = {
    linechat: "linechat",
    ngircd: "ngIRCd",
    redis: "redis-server",
    redis1: "1 node on Redis",
    redis3: "3 nodes on Redis",
  };
  for (const [key, how] of Object.entries(settings)) {
    console.log(`  ${started[key as Setup | "redis"]}: ${how}`);
  }
  console.log("");
  const checks = checkTargets(defs, results, targets.includes("ngircd"));
  printTable(defs, results, targets, checks, skipped);

  if (values.json) {
    const report = {
      command: ["deno task bench", ...args].join(" "),
      date: new Date().toISOString(),
      machine: m,
      linechat: revision,
      ngircd: ngircdVer ?? null,
      settings,
      scenarios: defs.map((d) => ({
        id: d.id,
        key: d.key,
        title: d.title,
        config: d.config,
        skipped: skipped.get(d.key) ?? null,
        results: results.get(d.key),
      })),
      targets: checks,
    };
    await Deno.writeTextFile(values.json, JSON.stringify(report, null, 2) + "\n");
  }
  const failed = [...results.values()].some((r) => Object.values(r).some((x) => !x.ok));
  return failed ? 1 : 0;
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`bench: ${err.message} (try --help)`);
      Deno.exit(2);
    }
    throw err;
  }
}
