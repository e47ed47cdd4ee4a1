// `deno task bench`: the driver. Per scenario it starts a fresh server process (ours, and
// ngIRCd with --compare ngircd), runs the separate load process against it, and prints the
// table. The clients live in load.ts, the server launchers in servers.ts.

import { parseFlags, UsageError } from "../lib/protocol/cli.ts";
import type { LoadConfig, LoadResult, ScenarioKind } from "./load.ts";
import { machine } from "./proc.ts";
import {
  findNgircd,
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
                           1 connect, 2 idle, 3 fanout, 4 fanout-large
  --compare ngircd         run each scenario against ngIRCd too, side by side
  --json FILE              also write every figure to FILE
  --timeout SECONDS        time limit of each scenario run (default: per scenario)
  --profile DIR            run linechat's server with --cpu-prof, one profile per
                           scenario in DIR/KEY/ (summarize: bench/profile.ts FILE)
  --connect-clients N      scenario 1: clients to connect and name (2000)
  --connect-concurrency N  scenario 1: clients connecting at a time (10)
  --idle-clients N         scenario 2: clients held (10000)
  --idle-hold SECONDS      scenario 2: how long they are held (5)
  --fanout-members N       scenario 3: members (200); also --fanout-senders (10),
                           --fanout-messages (300, per sender), --fanout-window (8)
  --large-members N        scenario 4: members (1000); also --large-senders (2),
                           --large-messages (200), --large-window (4)
  --help                   show this help`;

/**
 * Clients connecting at a time while a scenario sets up (scenarios 2 to 4). ngIRCd's
 * listen backlog is small: with more in flight its kernel queue overflows and resets.
 */
const SETUP_CONCURRENCY = 10;
const LOAD_TS = new URL("./load.ts", import.meta.url).pathname;
/** Extra time the load process gets past its own time limit before it is killed. */
const LOAD_GRACE_MS = 20_000;

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
    fanout("fanout", 3, "fanout"),
    fanout("large", 4, "fanout-large"),
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

/** Runs the load process for one scenario against a running server. */
async function runLoad(def: ScenarioDef, server: ServerProcess): Promise<LoadResult> {
  const cfg: LoadConfig = {
    ...def.config,
    dialect: server.target === "ngircd" ? "irc" : "linechat",
    port: server.port,
    serverPid: server.pid,
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
  const died = await server.exitReason();
  if (died) {
    result.ok = false;
    result.failure = `${died}${result.failure ? `; ${result.failure}` : ""}`;
  }
  return result;
}

/** How each server was started, for the report (filled as they start). */
const settings: Partial<Record<Target, string>> = {};

/** One scenario against one server: a fresh server each time. */
async function runOne(
  def: ScenarioDef,
  target: Target,
  ngircd: string | undefined,
  profileDir: string | undefined,
): Promise<LoadResult> {
  let dir: string | undefined;
  try {
    let server: ServerProcess;
    if (target === "ngircd") {
      dir = await Deno.makeTempDir({ prefix: "linechat-bench-ngircd-" });
      server = await ServerProcess.ngircd(ngircd!, dir);
    } else {
      server = await ServerProcess.linechat(profileDir);
    }
    settings[target] = server.settings;
    await using _ = server;
    return await runLoad(def, server);
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

/** Results of every run: scenario key -> target -> result. */
type Results = Map<string, Partial<Record<Target, LoadResult>>>;

/** A target of issue 7 and whether this run met it. */
interface TargetCheck {
  scenario: number;
  goal: string;
  value: string;
  met: boolean | undefined;
}

function checkTargets(defs: ScenarioDef[], results: Results, compared: boolean): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const fig = (key: string, t: Target, f: string) => results.get(key)?.[t]?.figures[f];
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
  ) => {
    const x = fig(key, "linechat", figure);
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
    }
  }
  return checks;
}

function printTable(
  defs: ScenarioDef[],
  results: Results,
  targets: Target[],
  checks: TargetCheck[],
): void {
  const compared = targets.includes("ngircd");
  const w = [36, 12, 12, 8];
  const row = (cells: string[]) =>
    console.log(
      cells.map((c, i) => i === 0 ? c.padEnd(w[0]) : c.padStart(w[i])).join(" ").trimEnd(),
    );
  row(["", "linechat", ...(compared ? ["ngIRCd", "ratio"] : [])]);
  for (const def of defs) {
    console.log(`${def.id}. ${def.title}`);
    const byTarget = results.get(def.key) ?? {};
    for (const r of def.rows) {
      const ours = byTarget.linechat?.figures[r.figure];
      const theirs = byTarget.ngircd?.figures[r.figure];
      const label = `   ${r.label}`;
      row([
        label,
        fmt(ours, r.digits),
        ...(compared ? [fmt(theirs, r.digits), ratio(ours, theirs, r.better)] : []),
      ]);
    }
    for (const t of targets) {
      const res = byTarget[t];
      if (res && !res.ok) console.log(`   ${t} FAILED: ${res.failure}`);
      for (const note of res?.notes ?? []) console.log(`   ${t} note: ${note}`);
    }
  }
  if (checks.length === 0) return;
  console.log("\ntargets (issue 7)");
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
  let ngircd: string | undefined;
  let ngircdVer: string | undefined;
  if (values.compare === "ngircd") {
    ngircd = findNgircd();
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

  const results: Results = new Map();
  for (const def of defs) {
    const byTarget: Partial<Record<Target, LoadResult>> = {};
    results.set(def.key, byTarget);
    for (const target of targets) {
      console.error(`running ${def.id}. ${def.title} against ${target} ...`);
      const t0 = performance.now();
      const profile = values.profile && target === "linechat"
        ? `${values.profile}/${def.key}`
        : undefined;
      byTarget[target] = await runOne(def, target, ngircd, profile);
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      console.error(`  ${byTarget[target]!.ok ? "done" : "FAILED"} in ${secs} s`);
    }
  }
  for (const t of targets) if (settings[t]) console.log(`  ${t}: ${settings[t]}`);
  console.log("");
  const checks = checkTargets(defs, results, targets.includes("ngircd"));
  printTable(defs, results, targets, checks);

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
