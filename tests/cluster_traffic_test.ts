// The cluster's faults under traffic, end to end: three node processes on a real redis-server,
// clients on each sending numbered lines to #lobby while a node is killed with -9, or while
// Redis is restarted (keeping its data, or empty). Whatever a sender was not told "not sent"
// reaches every member on live nodes exactly once, in one order for everyone. Ignored, saying
// "skipped: no redis-server", where redis-server is not installed.

import assert from "node:assert/strict";
import { joinAs, type LineClient } from "./helpers.ts";
import { freePort, HAVE_REDIS, RedisServer } from "./redis_server.ts";
import { startNode } from "./cluster_nodes.ts";

if (!HAVE_REDIS) console.log("skipped: no redis-server (apt-get install redis-server)");

/** A sender's line as a member sees it: `s1: s1 line 7`, or its last one, `s1: s1 done`. */
const TRAFFIC = /^(s\d): s\d (line \d+|done)$/;

/** The senders' lines `client` received, in order. */
function traffic(client: LineClient): string[] {
  return client.received.filter((l) => TRAFFIC.test(l));
}

/** Waits (at most `timeoutMs`) until `client` has received a line for which `seen` holds. */
async function received(
  client: LineClient,
  seen: (line: string) => boolean,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!client.received.some(seen)) {
    await client.expect(() => true, Math.max(1, deadline - Date.now()));
  }
}

/** A client sending numbered lines, and how many it sent. */
interface Sender {
  name: string;
  client: LineClient;
  sent: number;
}

/** Sends `count` more numbered lines from `s`, each written before the next. */
async function burst(s: Sender, count: number): Promise<void> {
  for (let i = 0; i < count; i++) await s.client.send(`${s.name} line ${s.sent++}`);
}

/**
 * Sends numbered lines from `s`, each after a round trip to its node (a /whois, which needs no
 * Redis), until `done()` holds and `more` lines were sent after that; at most 3000 lines.
 */
async function paced(s: Sender, done: () => boolean, more: number): Promise<void> {
  let after = 0;
  for (let i = 0; i < 3000 && after < more; i++) {
    if (done()) after++;
    await s.client.send(`${s.name} line ${s.sent++}`);
    await s.client.send(`/whois ${s.name}`);
    await s.client.expect(`* ${s.name}: `, 5000);
  }
  assert.equal(after, more, `${s.name}: ${more} lines after`);
}

/**
 * Sends each sender's last line, `done`, and waits until every member has it (a sender sees the
 * others'): every line sent before it that Redis took is in by then, as a node delivers a room's
 * lines in their order.
 */
async function finish(senders: Sender[], watchers: LineClient[]): Promise<void> {
  for (const s of senders) await s.client.send(`${s.name} done`);
  for (const s of senders) {
    for (const c of [...watchers, ...senders.map((o) => o.client)]) {
      if (c === s.client) continue;
      await received(c, (l) => l === `${s.name}: ${s.name} done`);
    }
  }
}

/**
 * The check: among the lines every watcher saw, each watcher saw them in one order, none twice;
 * each sender's lines came in the order sent, and those missing somewhere are no more than it
 * was told were not sent. A sender sees the others' lines in that order too.
 */
function check(senders: Sender[], watchers: LineClient[]): void {
  const seen = watchers.map(traffic);
  for (const [i, lines] of seen.entries()) {
    assert.equal(new Set(lines).size, lines.length, `watcher ${i} saw a line twice`);
  }
  const everywhere = seen[0].filter((l) => seen.every((lines) => lines.includes(l)));
  const common = new Set(everywhere);
  for (const lines of seen) assert.deepEqual(lines.filter((l) => common.has(l)), everywhere);
  for (const s of senders) {
    const own = everywhere.filter((l) => l.startsWith(`${s.name}: `) && !l.endsWith(" done"));
    const numbers = own.map((l) => Number(l.slice(l.lastIndexOf(" ") + 1)));
    assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b), `${s.name}'s order`);
    const notSent = s.client.received.filter((l) => l.startsWith("! not sent")).length;
    assert(
      own.length >= s.sent - notSent,
      `${s.name}: ${own.length} of ${s.sent} lines everywhere, ${notSent} told not sent`,
    );
    const others = everywhere.filter((l) => !l.startsWith(`${s.name}: `));
    assert.deepEqual(traffic(s.client).filter((l) => common.has(l)), others, `${s.name}'s view`);
  }
}

/** Three nodes on `url` with `flags`, killed when disposed. */
async function threeNodes(url: string, ...flags: string[]) {
  const nodes = await Promise.all(["n1", "n2", "n3"].map((n) => startNode(url, n, ...flags)));
  return {
    nodes,
    async [Symbol.asyncDispose]() {
      for (const { server } of nodes) await server[Symbol.asyncDispose]();
    },
  };
}

/** Joins `names` on the nodes' ports in turn; closed when disposed. */
async function clients(ports: number[], names: string[]) {
  const list: LineClient[] = [];
  for (const [i, name] of names.entries()) list.push(await joinAs(ports[i % ports.length], name));
  return {
    list,
    async [Symbol.asyncDispose]() {
      for (const c of list) await c.close();
    },
  };
}

Deno.test({
  name: "cluster: a node killed with -9 mid-traffic; the live nodes' members see every line once",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    await using cluster = await threeNodes(`${redis.url}/1`, "--rate", "0", "--node-timeout", "1");
    const [n1, n2, n3] = cluster.nodes;
    await using doomed = await clients([n3.port], ["d1", "d2"]);
    await using live = await clients([n1.port, n2.port], ["s1", "s2", "w1", "w2"]);
    const [s1, s2, w1, w2] = live.list;
    const watchers = [w1, w2];
    // A private message follows the joins sent before it: once it is in, n1 and n2 know d1, d2.
    for (const w of watchers) {
      await doomed.list[1].send(`/msg ${w === w1 ? "w1" : "w2"} in`);
      await w.expect("[pm from d2] in");
    }
    const senders: Sender[] = [{ name: "s1", client: s1, sent: 0 }, {
      name: "s2",
      client: s2,
      sent: 0,
    }];
    const first = Promise.all(senders.map((s) => burst(s, 150)));
    for (let i = 0; i < 50; i++) await w1.expect(TRAFFIC, 10_000);
    n3.server.child.kill("SIGKILL");
    await Promise.all([first, ...senders.map((s) => burst(s, 150))]);
    await finish(senders, watchers);
    for (const c of [...watchers, s1, s2]) {
      for (const name of ["d1", "d2"]) {
        await received(c, (l) => l.startsWith(`* ${name} left: node n3 went away`));
      }
    }
    check(senders, watchers);
    for (const s of senders) {
      assert.equal(s.client.received.filter((l) => l.startsWith("! ")).length, 0, "no errors");
      assert.equal(traffic(w1).filter((l) => l.startsWith(`${s.name}: `)).length, 301);
    }
    // One notice per viewer: a marker sent after the sweep finds no second one.
    await s1.send("/msg w2 marker");
    await w2.expect("[pm from s1] marker");
    for (const c of [...watchers, s1, s2]) {
      for (const name of ["d1", "d2"]) {
        assert.equal(c.received.filter((l) => l.startsWith(`* ${name} left`)).length, 1);
      }
    }
  },
});

/**
 * Redis restarted under three nodes mid-traffic (with `flags`, and the same ones again), then
 * the check: lines sent while it was down were told "not sent", the rest came once.
 */
async function redisRestarted(flags: string[], empty: boolean): Promise<void> {
  const port = freePort();
  let redis = await RedisServer.start(port, flags);
  try {
    // A node catches up what a room's stream still holds: about --history lines.
    await using cluster = await threeNodes(
      `redis://127.0.0.1:${port}/1`,
      "--rate",
      "0",
      "--history",
      "2000",
    );
    const { nodes } = cluster;
    const ports = nodes.map((n) => n.port);
    await using people = await clients(ports, ["s1", "s2", "s3", "w1", "w2", "w3"]);
    const watchers = people.list.slice(3);
    // Every node knows every member: w3, the last, has been seen joining by the others.
    await watchers[0].expect("* w3 joined (6 online)");
    await watchers[1].expect("* w3 joined (6 online)");
    const senders: Sender[] = people.list.slice(0, 3).map((client, i) => ({
      name: `s${i + 1}`,
      client,
      sent: 0,
    }));
    const first = Promise.all(senders.map((s) => burst(s, 100)));
    for (let i = 0; i < 30; i++) await watchers[0].expect(TRAFFIC, 10_000);
    await redis.stop();
    await first;
    // Sent while Redis is down: each told "not sent".
    await Promise.all(senders.map((s) => burst(s, 20)));
    for (const s of senders) await received(s.client, (l) => l.startsWith("! not sent"));
    // Sending on, as Redis comes back and each node registers its users again.
    redis = await RedisServer.start(port, flags);
    const back = (i: number) => () =>
      nodes[i].server.received.some((l) => /engine: registered again: 2 users, /.test(l));
    await Promise.all(senders.map((s, i) => paced(s, back(i), 50)));
    for (const { server } of nodes) {
      if (empty) await server.expect(/engine: Redis lost its data \(new epoch\)/, 10_000);
      await server.expect(/engine: registered again: 2 users, 2 in rooms/, 10_000);
    }
    await finish(senders, watchers);
    check(senders, watchers);
    // Nobody left, and nobody was said to join again.
    for (const c of people.list) {
      assert.deepEqual(c.received.filter((l) => /^\* \S+ left/.test(l)), []);
      const joins = c.received.filter((l) => /^\* \S+ joined/.test(l));
      assert.equal(new Set(joins).size, joins.length, joins.join("\n"));
    }
  } finally {
    await redis.stop();
  }
}

Deno.test({
  name: "cluster: Redis restarted with its data mid-traffic; nothing acknowledged lost or doubled",
  ignore: !HAVE_REDIS,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "linechat-redis-" });
    try {
      await redisRestarted(["--dir", dir, "--appendonly", "yes", "--appendfsync", "always"], false);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "cluster: Redis restarted empty mid-traffic; nothing acknowledged lost or doubled",
  ignore: !HAVE_REDIS,
  async fn() {
    await redisRestarted([], true);
  },
});
