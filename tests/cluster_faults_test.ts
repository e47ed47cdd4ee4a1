// The cluster's faults, end to end with node subprocesses and a real redis-server: Redis
// stopped under live nodes, one node cut off from Redis (through a TCP proxy the test cuts)
// and back, a name taken meanwhile, room lines missed meanwhile. Ignored, saying "skipped: no
// redis-server", where redis-server is not installed.

import assert from "node:assert/strict";
import { joinAs, LineClient, type ServerProcess } from "./helpers.ts";
import { freePort, HAVE_REDIS, RedisServer } from "./redis_server.ts";
import { startNode, times } from "./cluster_nodes.ts";
import { TcpProxy } from "./tcp_proxy.ts";

if (!HAVE_REDIS) console.log("skipped: no redis-server (apt-get install redis-server)");

/**
 * Asks `client` to join rooms `#<prefix>0`, `#<prefix>1`, ... until its node refuses for want
 * of the cluster (a node notices a lost connection a moment after it is lost); at most 20 tries.
 */
async function joinRefused(client: LineClient, prefix: string): Promise<string> {
  for (let i = 0; i < 20; i++) {
    await client.send(`/join #${prefix}${i}`);
    const line = await client.expect(/you are in #|cannot join #/, 5000);
    if (line.includes("cannot join")) return line;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the node never refused a join");
}

Deno.test({
  name: "cluster: Redis stopped under three nodes with clients sending; every node still answers",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    const url = `${redis.url}/1`;
    const nodes = await Promise.all(
      ["n1", "n2", "n3"].map((n) => startNode(url, n, "--rate", "0")),
    );
    const clients: LineClient[] = [];
    try {
      for (const [i, name] of ["alice", "bob", "carol"].entries()) {
        clients.push(await joinAs(nodes[i].port, name));
      }
      const [alice, bob, carol] = clients;
      await carol.send("/msg alice carol-in");
      await alice.expect(/carol-in/);
      // Every client keeps sending while Redis goes away.
      const sending = clients.map(async (c, i) => {
        for (let k = 0; k < 50; k++) await c.send(`line ${i}-${k}`);
      });
      await redis.stop();
      await Promise.all(sending);
      for (const [i, c] of clients.entries()) {
        assert.match(
          await joinRefused(c, `r${i}-`),
          /^! cannot join #r\d-\d+ now \(the cluster cannot be reached\); try again$/,
        );
      }
      await alice.send("still here");
      await alice.expect("! not sent: the cluster cannot be reached right now; try again");
      await alice.send("/msg bob psst");
      await alice.expect("! not sent: the cluster cannot be reached right now; try again");
      // Leaving a room cannot be refused: it is told here, and fixed up when Redis is back.
      await bob.send("/part #lobby");
      await bob.expect(/you are in no room now/);
      for (const [i, c] of clients.entries()) {
        await c.send("/users");
        await c.expect(/online|in no room/, 5000);
        const name = ["alice", "bob", "carol"][i];
        await c.send(`/whois ${name}`);
        await c.expect(`* ${name}: `, 5000);
      }
      for (const { server } of nodes) assert.equal(server.ended, false, "every node is up");
    } finally {
      for (const c of clients) await c.close();
      for (const { server } of nodes) await server[Symbol.asyncDispose]();
    }
  },
});

Deno.test({
  name: "cluster: a node cut off from Redis and back registers its users again and catches up",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    await using proxy = TcpProxy.start(redis.port);
    const n1 = await startNode(`redis://127.0.0.1:${proxy.port}/1`, "n1");
    await using _n1 = n1.server;
    const n2 = await startNode(`${redis.url}/1`, "n2");
    await using _n2 = n2.server;
    await using dave = await joinAs(n1.port, "dave");
    await using erin = await joinAs(n1.port, "erin");
    await using bob = await joinAs(n2.port, "bob");
    await using carol = await joinAs(n2.port, "carol");
    for (const c of [dave, erin]) {
      await c.send("/join #dev");
      await c.expect(/you are in #dev/);
    }
    // A private message follows the joins it was sent after: once bob has it, n2 has them.
    await erin.send("/msg bob in");
    await bob.expect(/\[pm from erin\] in/);
    for (const c of [bob, carol]) {
      await c.send("/join #dev");
      await c.expect(/you are in #dev/);
    }
    await bob.expect("* carol joined #dev (4 here)");
    proxy.cut();
    await joinRefused(dave, "x");
    // A part while cut off is told on n1 only; a line said on n2 meanwhile misses n1; so is
    // going away (the mark reaches n2 with the rebuild).
    await erin.send("/part #dev");
    await erin.expect(/you left #dev|erin left #dev/);
    await dave.send("/away lunch");
    await dave.expect(/you are marked as away/);
    await bob.send("said while n1 was away");
    await carol.expect("bob: said while n1 was away");
    proxy.restore();
    await n1.server.expect(/engine: registered again: 2 users, /, 10_000);
    const seen = await bob.collectUntil("* erin left #dev", 10_000);
    assert.equal(times(seen, "joined"), 0, seen.join("\n"));
    await dave.expect("bob: said while n1 was away", 10_000);
    await bob.send("marker");
    const after = await dave.collectUntil("bob: marker", 5000);
    assert.equal(times(after, "said while n1 was away"), 0, after.join("\n"));
    // n1 is whole again: a join is told everywhere.
    await dave.send("/join #back");
    await dave.expect(/you are in #back/);
    await bob.send("/join #back");
    await dave.expect("* bob joined #back (2 here)");
    await bob.send("/users #dev");
    assert.match(
      await bob.expect(/in #dev/),
      /^\* 3 in #dev \(4 online\): bob, carol, dave \(away\)$/,
    );
  },
});

Deno.test({
  name: "cluster: a name taken while its node was cut off is settled: the holder keeps it",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    await using proxy = TcpProxy.start(redis.port);
    const flags = ["--node-timeout", "1"];
    const n1 = await startNode(`redis://127.0.0.1:${proxy.port}/1`, "n1", ...flags);
    await using _n1 = n1.server;
    const n2 = await startNode(`${redis.url}/1`, "n2", ...flags);
    await using _n2 = n2.server;
    await using bob = await joinAs(n2.port, "bob");
    await using dave = await joinAs(n1.port, "dave");
    await using erin = await joinAs(n1.port, "erin");
    await bob.expect("* erin joined (3 online)");
    proxy.cut();
    // n1 is silent to Redis: its users leave elsewhere, and its names lapse.
    await bob.expect("* dave left: node n1 went away (2 online)", 5000);
    await using other = await LineClient.connect(n2.port);
    let answer = "";
    for (let i = 0; i < 30 && !answer.includes("welcome"); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      await other.expect("choose a name:");
      await other.send("dave");
      answer = await other.expect(/welcome, |taken/, 5000);
    }
    assert.match(answer, /welcome, dave!/);
    proxy.restore();
    const told = await dave.expect(/the name dave was taken on another node/, 10_000);
    assert.match(
      told,
      /^\* the name dave was taken on another node while this one was cut off$/,
    );
    const guest = (await dave.expect(/^\* you are now guest-\d+$/)).slice("* you are now ".length);
    await erin.expect(`* dave is now ${guest}`);
    // On n2 both come back as coming online; the dave there (who joined once) is another user.
    const back = await bob.collectUntil(`* ${guest} joined`, 10_000);
    assert.equal(times(back, "* dave joined (2 online)"), 1, back.join("\n"));
    assert.equal(times(back, "is now"), 0, back.join("\n"));
    await other.send("/whois dave");
    await other.expect(/dave/);
    await dave.send("/msg bob from the guest");
    await bob.expect(`[pm from ${guest}] from the guest`);
  },
});

Deno.test({
  name: "cluster: Redis restarted empty; nodes rebuild names and rooms, write back bans, topics " +
    "and the motd, history starts again",
  ignore: !HAVE_REDIS,
  async fn() {
    const port = freePort();
    let redis = await RedisServer.start(port);
    const url = `redis://127.0.0.1:${port}/1`;
    const started: { server: ServerProcess }[] = [];
    try {
      const [n1, n2] = await Promise.all(
        ["n1", "n2"].map((n) => startNode(url, n, "--op-password", "secret")),
      );
      started.push(n1, n2);
      await using alice = await joinAs(n1.port, "alice");
      await using bob = await joinAs(n2.port, "bob");
      for (const c of [alice, bob]) {
        await c.send("/join #dev");
        await c.expect(/you are in #dev/);
      }
      await alice.expect("* bob joined #dev (2 here)");
      await alice.send("/msg #dev old line");
      await bob.expect("alice: old line");
      // What lasts, set before Redis loses it: a ban, #dev's topic, the motd.
      await alice.send("/op secret");
      await alice.expect("* you are now an operator");
      await alice.send("/ban troll");
      await alice.expect("* banned troll for good");
      await alice.send("/topic plans for friday");
      await alice.expect("* alice set the topic of #dev: plans for friday");
      await alice.send("/motd kept through it all");
      await alice.expect("* the message of the day is set");
      await bob.expect("* alice set the topic of #dev: plans for friday");
      await redis.stop();
      redis = await RedisServer.start(port);
      for (const n of [n1, n2]) {
        await n.server.expect(/engine: Redis lost its data \(new epoch\)/, 10_000);
        await n.server.expect(/engine: registered again: 1 users, 2 in rooms/, 10_000);
        await n.server.expect(/engine: wrote back topics and the motd/, 10_000);
      }
      await alice.send("/msg #dev new line");
      // Both nodes told their users again: bob already knew alice, so no notice.
      const seen = await bob.collectUntil("alice: new line", 5000);
      assert.equal(times(seen, "joined"), 0, seen.join("\n"));
      assert.equal(times(seen, "left"), 0, seen.join("\n"));
      // The names are claimed again, and a node started now reads who is where from Redis.
      const n3 = await startNode(url, "n3");
      started.push(n3);
      await using late = await LineClient.connect(n3.port);
      await late.expect("choose a name:");
      await late.send("troll");
      await late.expect(/troll is banned/);
      await late.send("alice");
      await late.expect(/the name alice is taken \(on another node\)/);
      await late.send("carol");
      await late.expect("welcome, carol!");
      await late.send("/motd");
      await late.expect(/kept through it all/);
      await late.send("/join #dev");
      const here = await late.expect(/you are in #dev/);
      await late.expect(/plans for friday/);
      assert.match(here, /\(3 here: /);
      for (const name of ["alice", "bob"]) assert.match(here, new RegExp(name));
      // History started again: the replay holds the new line only.
      const replay = await late.collectUntil(/alice: new line/, 5000);
      assert.equal(times(replay, "old line"), 0, replay.join("\n"));
      // On n2, where #dev's history was kept in memory, a newcomer sees no old line either.
      await using dora = await joinAs(n2.port, "dora");
      await dora.send("/join #dev");
      const kept = await dora.collectUntil(/alice: new line/, 5000);
      assert.equal(times(kept, "old line"), 0, kept.join("\n"));
    } finally {
      for (const { server } of started) await server[Symbol.asyncDispose]();
      await redis.stop();
    }
  },
});
