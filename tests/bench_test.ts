// CI smoke test of the benchmark: every scenario at tiny sizes against our server only
// (bench.ts as a subprocess, as `deno task bench` runs it), the cluster scenario on a
// redis-server where there is one, plus the load's pure parts. The full-size run and the
// ngIRCd comparison are left to `deno task bench`.

import assert from "node:assert/strict";
import { handshake, type Mark, markText, messageLine, parseMark } from "../bench/wire.ts";
import { ngircdConfig } from "../bench/servers.ts";
import { HAVE_REDIS } from "./redis_server.ts";

if (!HAVE_REDIS) console.log("skipped: no redis-server (bench scenario 5 runs without it)");

const BENCH = new URL("../bench/bench.ts", import.meta.url).pathname;
const encoder = new TextEncoder();

Deno.test("parseMark() reads the mark at the end of a linechat or IRC line", async (t) => {
  const text = markText(3, 17, 123456789);
  const lines = [`b3: ${text}`, `:b3!~b3@127.0.0.1 PRIVMSG #bench :${text}`];
  for (const line of lines) {
    await t.step(line, () => {
      const bytes = encoder.encode(`xx${line}\r\n`);
      const out: Mark = { sender: -1, seq: -1, sentUs: -1 };
      assert(parseMark(bytes, 2, bytes.length - 2, out));
      assert.deepEqual(out, { sender: 3, seq: 17, sentUs: 123456789 });
    });
  }
  for (const line of ["* b4 joined (5 online)", "=1,2", "b1: 1,2,3", "=,2,3", ""]) {
    await t.step(`rejects ${JSON.stringify(line)}`, () => {
      const bytes = encoder.encode(line);
      assert(!parseMark(bytes, 0, bytes.length, { sender: 0, seq: 0, sentUs: 0 }));
    });
  }
});

Deno.test("handshake() names a linechat client after the prompt and the welcome", () => {
  assert.deepEqual(handshake("linechat", "b1", 0, "choose a name:", false), [
    { send: "b1\r\n" },
    1,
  ]);
  assert.deepEqual(handshake("linechat", "b1", 1, "* welcome, b1! /help", false), [
    { named: true },
    2,
  ]);
  assert.deepEqual(
    handshake("linechat", "b1", 1, "! the name b1 is taken", false)[0].error,
    "! the name b1 is taken",
  );
});

Deno.test("handshake() registers an IRC client and joins only when asked", () => {
  const welcome = ":srv 001 b1 :Welcome";
  assert.deepEqual(handshake("irc", "b1", 0, welcome, false), [{ named: true }, 2]);
  assert.deepEqual(handshake("irc", "b1", 0, welcome, true), [{ send: "JOIN #bench\r\n" }, 1]);
  assert.deepEqual(handshake("irc", "b1", 1, ":b1!~b1@127.0.0.1 JOIN :#bench", true), [
    { named: true },
    2,
  ]);
  assert.deepEqual(handshake("irc", "b1", 0, "PING :x", false), [{ send: "PONG :x\r\n" }, 0]);
  assert(handshake("irc", "b1", 0, ":srv 433 * b1 :Nickname already in use", false)[0].error);
  assert.deepEqual(messageLine("irc", "hi"), "PRIVMSG #bench :hi\r\n");
});

Deno.test("ngircdConfig() turns ngIRCd's throttles off and listens on loopback", () => {
  const conf = ngircdConfig(6667, "/tmp/x");
  for (const line of ["MaxConnectionsIP = 0", "MaxJoins = 0", "MaxPenaltyTime = 0", "DNS = no"]) {
    assert(conf.includes(line), line);
  }
  assert(conf.includes("Listen = 127.0.0.1"));
});

/** One setup's result in the bench's JSON report. */
interface Result {
  ok: boolean;
  failure?: string;
  figures: Record<string, number>;
}

Deno.test("bench.ts --scenario cluster says it is skipped where redis-server is missing", async () => {
  // An empty PATH: no redis-server (nor git or cat, which the bench can do without).
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-run",
      "--allow-read",
      "--allow-env",
      BENCH,
      "--scenario",
      "5",
    ],
    env: { PATH: "/nonexistent" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.deepEqual(out.code, 0, text + new TextDecoder().decode(out.stderr));
  assert.match(text, /^ {3}skipped: no redis-server \(apt-get install redis-server\)$/m);
  assert.doesNotMatch(text, /deliveries\/s/);
});

Deno.test("bench.ts runs every scenario at tiny sizes against linechat", async () => {
  const json = await Deno.makeTempFile({ suffix: ".json" });
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-run",
        "--allow-read",
        "--allow-write",
        "--allow-env",
        BENCH,
        "--json",
        json,
        "--timeout",
        "20",
        ...["--connect-clients", "20", "--connect-concurrency", "4"],
        ...["--idle-clients", "30", "--idle-hold", "0.2"],
        ...["--fanout-members", "8", "--fanout-senders", "3", "--fanout-messages", "10"],
        ...["--fanout-window", "2"],
        ...["--large-members", "12", "--large-senders", "2", "--large-messages", "5"],
        ...["--large-window", "1"],
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.deepEqual(out.code, 0, text + new TextDecoder().decode(out.stderr));
    const report = JSON.parse(await Deno.readTextFile(json));
    assert.deepEqual(report.scenarios.map((s: { id: number }) => s.id), [1, 2, 3, 4, 5]);
    for (const s of report.scenarios.slice(0, 4)) {
      const r = s.results.linechat;
      assert(r.ok, `${s.key}: ${r.failure}`);
    }
    const [connect, idle, fanout, large] = report.scenarios.map((s: {
      results: { linechat?: { figures: Record<string, number> } };
    }) => s.results.linechat?.figures);
    assert.deepEqual(connect.named, 20);
    assert(connect.connectsPerSec > 0);
    assert.deepEqual(idle.errors, 0);
    assert(idle.rssDuringKiB > 0);
    assert.deepEqual(fanout.deliveries, 3 * 10 * 7);
    assert.deepEqual([fanout.lost, fanout.duplicates], [0, 0]);
    assert.deepEqual(large.deliveries, 2 * 5 * 11);
    assert.deepEqual([large.lost, large.duplicates], [0, 0]);
    assert(text.includes("deliveries/s"));
    const cluster = report.scenarios[4];
    if (!HAVE_REDIS) {
      assert.match(cluster.skipped, /^no redis-server/);
      return;
    }
    // The fan-out of scenario 3 on one node, on one node on Redis, on three nodes on Redis.
    assert.deepEqual(Object.keys(cluster.results), ["linechat", "redis1", "redis3"]);
    for (const [setup, r] of Object.entries(cluster.results) as [string, Result][]) {
      assert(r.ok, `${setup}: ${r.failure}`);
      assert.deepEqual(r.figures.deliveries, 3 * 10 * 7, setup);
      assert.deepEqual([r.figures.lost, r.figures.duplicates], [0, 0], setup);
    }
    const three = cluster.results.redis3.figures;
    assert(three.redisCpuSec >= 0 && three.serverCpuSec > 0, JSON.stringify(three));
    assert.match(text, /1 node +1 on Redis +3 on Redis +ratio/);
    assert.match(report.settings.redis3, /--engine redis:\/\/127\.0\.0\.1:PORT --node n1; n2, n3/);
  } finally {
    await Deno.remove(json);
  }
});

Deno.test({
  name: "bench/redis_calls.ts times the Redis engine's publish, one at a time and pipelined",
  ignore: !HAVE_REDIS,
  async fn() {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-net",
        "--allow-run",
        "--allow-read",
        "--allow-env",
        new URL("../bench/redis_calls.ts", import.meta.url).pathname,
        "200",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.deepEqual(out.code, 0, text + new TextDecoder().decode(out.stderr));
    for (const row of ["one at a time", "80 in flight"]) {
      const m = text.match(new RegExp(`^${row} +([\\d,]+) +([\\d,]+) +([\\d,]+) +([\\d,]+)$`, "m"));
      assert(m, text);
      assert(Number(m[1].replaceAll(",", "")) > 0, text);
    }
  },
});
