// chat-server with --engine and --node, as a subprocess: a Redis that is not there is one line
// and exit 1, --data is refused with Redis, and a node on a real redis-server (started by the
// test, ignored saying "skipped: no redis-server" where there is none) serves its own users.

import assert from "node:assert/strict";
import { joinAs, LineClient, portOf, ServerProcess } from "./helpers.ts";
import { freePort, HAVE_REDIS, RedisServer } from "./redis_server.ts";
import { startNode } from "./cluster_nodes.ts";

if (!HAVE_REDIS) console.log("skipped: no redis-server (apt-get install redis-server)");

/** Runs server.ts with `args` until it exits; its exit code and stderr. */
async function refused(...args: string[]): Promise<{ code: number; stderr: string }> {
  await using server = ServerProcess.onLoopback(...args);
  return await server.exit();
}

Deno.test("chat-server --engine redis:// says in one line that Redis is not there, exit 1", async () => {
  const url = `redis://127.0.0.1:${freePort()}`;
  const { code, stderr } = await refused("--engine", url);
  assert.equal(code, 1);
  assert.match(stderr, new RegExp(`^chat-server: cannot reach Redis at ${url}/0: .+\\n$`));
});

Deno.test("chat-server --engine redis:// refuses --data", async () => {
  const { code, stderr } = await refused("--engine", "redis://127.0.0.1:1", "--data", "x.db");
  assert.equal(code, 1);
  assert.match(stderr, /--data cannot be used with --engine redis/);
});

Deno.test("chat-server refuses a bad --engine or --node", async (t) => {
  for (
    const [args, pattern] of [
      [["--engine", "mysql://x"], /invalid --engine: use memory or redis:\/\/HOST:PORT\[\/DB\]/],
      [["--engine", "redis://127.0.0.1:6379/99"], /invalid Redis database "99"/],
      [["--engine", "redis://h:1/0?x=1"], /takes no \?query/],
      [["--node", "a b"], /invalid --node "a b"/],
      [["--node", ""], /invalid --node ""/],
    ] as const
  ) {
    await t.step(args.join(" "), async () => {
      const { code, stderr } = await refused(...args);
      assert.equal(code, 1);
      assert.match(stderr, pattern);
    });
  }
});

Deno.test({
  name: "chat-server --engine redis:// --node NAME connects, says so and serves its users",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    await using server = ServerProcess.onLoopback("--engine", `${redis.url}/2`, "--node", "n1");
    // The log is written asynchronously, so "listening on" may come before or after it.
    const lines = await server.collectUntil(/cluster in progress/, 10_000);
    assert(
      lines.some((l) => l.endsWith(`engine ${redis.url}/2 as node n1: connected`)),
      lines.join("\n"),
    );
    const listening = lines.find((l) => l.startsWith("listening on "));
    const port = listening === undefined ? await server.port() : portOf(listening);
    await using alice = await joinAs(port, "alice");
    await using bob = await joinAs(port, "bob");
    await alice.send("hello");
    await bob.expect("alice: hello");
  },
});

/** Three nodes on one redis-server, stopped (SIGKILL) when disposed. */
/**
 * A test with its own Redis and three nodes started with `flags`; ignored (and said so) where
 * redis-server is missing.
 */
function clusterTest(
  name: string,
  flags: string[],
  fn: (cluster: Awaited<ReturnType<typeof threeNodes>>, redis: RedisServer) => Promise<void>,
): void {
  Deno.test({
    name: `cluster: ${name}`,
    ignore: !HAVE_REDIS,
    async fn() {
      await using redis = await RedisServer.start();
      await using cluster = await threeNodes(redis, ...flags);
      await fn(cluster, redis);
    },
  });
}

async function threeNodes(redis: RedisServer, ...args: string[]) {
  const nodes = await Promise.all(
    ["n1", "n2", "n3"].map((n) => startNode(`${redis.url}/1`, n, ...args)),
  );
  return {
    nodes,
    async [Symbol.asyncDispose]() {
      for (const { server } of nodes) await server[Symbol.asyncDispose]();
    },
  };
}

/** Connects and offers `name`; the line that answered it (welcome or a refusal). */
async function offer(client: LineClient, name: string): Promise<string> {
  await client.expect("choose a name:");
  await client.send(name);
  return await client.expect(/welcome, |taken|looks too much like/, 5000);
}

clusterTest(
  "a name taken on one node is refused on the others, and free once its user leaves",
  [],
  async (cluster) => {
    const [n1, n2] = cluster.nodes;
    const alice = await joinAs(n1.port, "alice");
    await using other = await LineClient.connect(n2.port);
    assert.match(await offer(other, "alice"), /the name alice is taken \(on another node\)/);
    assert.match(await offer(other, "ALICE"), /taken \(on another node\)/);
    await alice.send("/quit");
    await alice.close();
    // The name is given back as alice leaves n1; n2 may ask a moment before Redis has it.
    let answer = await offer(other, "alice");
    for (let i = 0; i < 20 && !answer.includes("welcome"); i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await offer(other, "alice");
    }
    assert.match(answer, /welcome, alice!/);
  },
);

clusterTest("three nodes racing for one name, exactly one wins each round", [], async (cluster) => {
  for (let round = 0; round < 10; round++) {
    const clients = await Promise.all(cluster.nodes.map((n) => LineClient.connect(n.port)));
    try {
      await Promise.all(clients.map((c) => c.expect("choose a name:")));
      await Promise.all(clients.map((c) => c.send(`racer${round}`)));
      const answers = await Promise.all(
        clients.map((c) => c.expect(/welcome, |taken/, 5000)),
      );
      assert.equal(answers.filter((a) => a.includes("welcome")).length, 1, answers.join("\n"));
    } finally {
      for (const c of clients) await c.close();
    }
  }
});

clusterTest("/users * and /whois see users on every node", [], async (cluster) => {
  const [n1, n2, n3] = cluster.nodes;
  await using alice = await joinAs(n1.port, "alice");
  await using bob = await joinAs(n2.port, "bob");
  await using carol = await joinAs(n3.port, "carol");
  await carol.send("/users *");
  const users = await carol.expect(/alice/);
  for (const name of ["alice", "bob", "carol"]) assert.match(users, new RegExp(name));
  assert.match(users, /3/);
  await bob.send("/whois alice");
  await bob.expect("alice is online on node n1");
  await bob.send("/whois nobody");
  await bob.expect(/no user named nobody is online/);
  await alice.send("/whois carol");
  await alice.expect("carol is online on node n3");
});

clusterTest(
  "--auto-name gives distinct guest names across nodes",
  ["--auto-name"],
  async (cluster) => {
    const clients = [];
    try {
      for (const n of cluster.nodes) clients.push(await LineClient.connect(n.port));
      const names = [];
      for (const c of clients) names.push(await c.expect(/^\* you are guest-\d+ /));
      assert.equal(new Set(names).size, 3, names.join(", "));
    } finally {
      for (const c of clients) await c.close();
    }
  },
);

clusterTest("the names of a node killed with -9 are free again after --node-timeout", [
  "--node-timeout",
  "1",
], async (cluster) => {
  const [n1, , n3] = cluster.nodes;
  const dave = await joinAs(n3.port, "dave");
  n3.server.child.kill("SIGKILL");
  await n3.server.child.status;
  await dave.close();
  await using other = await LineClient.connect(n1.port);
  const started = Date.now();
  let answer = await offer(other, "dave");
  assert.match(answer, /taken \(on another node\)/, "held until the node times out");
  // The claim lapses by itself (no event to wait on): ask again every 0.2 s.
  while (!answer.includes("welcome") && Date.now() - started < 5000) {
    await new Promise((r) => setTimeout(r, 200));
    answer = await offer(other, "dave");
  }
  assert.match(answer, /welcome, dave!/);
  assert(Date.now() - started < 3000, `free after ${Date.now() - started} ms`);
});

Deno.test({
  name: "cluster: with Redis gone a node stays up; a new name or a room message gets a clear error",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    const { server, port } = await startNode(`${redis.url}/1`, "n1");
    await using _server = server;
    await using alice = await joinAs(port, "alice");
    await using _bob = await joinAs(port, "bob");
    await redis.stop();
    await using late = await LineClient.connect(port);
    // node-redis notices the closed connection at once; a try before that would still get in.
    let answer = "";
    for (let i = 0; i < 10 && !answer.includes("cannot take a name now"); i++) {
      await late.expect("choose a name:");
      await late.send(`carol${i}`);
      answer = await late.expect(/welcome|cannot take a name now/, 5000);
    }
    assert.match(answer, /cannot take a name now \(the cluster cannot be reached\); try again/);
    // Local users stay connected; a room message needs Redis, and says so instead of vanishing.
    await alice.send("still here");
    await alice.expect("! not sent: the cluster cannot be reached right now; try again");
    await alice.send("/users");
    await alice.expect(/bob/);
  },
});

clusterTest("room messages and actions reach every node, in one order for everyone", [
  "--rate",
  "0",
], async (cluster) => {
  const names = ["alice", "bob", "carol"];
  const clients = await Promise.all(cluster.nodes.map((n, i) => joinAs(n.port, names[i])));
  const watchers = await Promise.all(cluster.nodes.map((n, i) => joinAs(n.port, `watch${i}`)));
  try {
    // Everyone on every node is in #lobby; each sends 15 lines at once.
    const per = 15;
    await Promise.all(clients.map(async (c, i) => {
      for (let k = 0; k < per; k++) await c.send(`${names[i]} line ${k}`);
    }));
    const collect = async (c: LineClient, count: number) => {
      const lines: string[] = [];
      while (lines.length < count) lines.push(await c.expect(/^\w+: \w+ line \d+$/, 5000));
      return lines;
    };
    // Silent watchers on every node see all the lines: the same sequence on each.
    const watched = await Promise.all(watchers.map((w) => collect(w, per * 3)));
    for (const w of watched.slice(1)) assert.deepEqual(w, watched[0]);
    for (const name of names) {
      const own = watched[0].filter((l) => l.startsWith(`${name}:`));
      assert.deepEqual(own, Array.from({ length: per }, (_, k) => `${name}: ${name} line ${k}`));
    }
    // A sender sees the others' lines in that order too, and not its own.
    for (const [i, c] of clients.entries()) {
      const others = watched[0].filter((l) => !l.startsWith(`${names[i]}:`));
      assert.deepEqual(await collect(c, per * 2), others);
    }
    await clients[0].send("/join #far");
    await clients[2].send("/join #far");
    await clients[0].expect(/#far/);
    await clients[2].expect(/#far/);
    await clients[2].send("/me waves from n3");
    await clients[0].expect(/\* carol waves from n3/);
    await clients[1].send("#lobby only");
    await clients[0].expect(/bob: #lobby only/);
    // bob on n2 is not in #far: nothing of it reaches him.
    await clients[0].send("/msg #far only far");
    await clients[2].expect(/alice: only far/);
    // One channel carries every room, in one order: a later #lobby line comes after it.
    await clients[0].send("/msg #lobby marker");
    const before = await clients[1].collectUntil(/alice: marker/, 5000);
    assert.equal(before.some((l) => l.includes("only far")), false, before.join("\n"));
  } finally {
    for (const c of [...clients, ...watchers]) await c.close();
  }
});

clusterTest(
  "joining a room on another node replays what was said there, then carries on live",
  [],
  async (cluster, redis) => {
    const [n1, n2] = cluster.nodes;
    await using alice = await joinAs(n1.port, "alice");
    await alice.send("in the lobby first");
    await alice.send("/join #hist");
    await alice.expect(/#hist/);
    for (let i = 1; i <= 3; i++) await alice.send(`said h${i}`);
    // #hist exists only on n1 so far: on n2 it is made now and reads its history from Redis.
    await using bob = await joinAs(n2.port, "bob");
    await bob.send("/join #hist");
    const replay = await bob.collectUntil(/history|end of/i, 5000);
    const later = await bob.collectUntil(/alice: said h3/, 5000);
    const seen = [...replay, ...later].filter((l) => /said h\d/.test(l));
    assert.deepEqual(seen.map((l) => l.match(/said h\d/)![0]), ["said h1", "said h2", "said h3"]);
    await alice.send("said live");
    await bob.expect(/alice: said live/);
    // A node started after all this replays #lobby from Redis too.
    const late = await startNode(`${redis.url}/1`, "n4");
    await using _late = late.server;
    await using carol = await joinAs(late.port, "carol");
    await carol.expect(/alice: in the lobby first/, 5000);
  },
);

clusterTest(
  "private and group messages reach users on other nodes, /reply goes back",
  [],
  async (cluster) => {
    const [n1, n2, n3] = cluster.nodes;
    await using alice = await joinAs(n1.port, "alice");
    await using dora = await joinAs(n1.port, "dora");
    await using bob = await joinAs(n2.port, "bob");
    await using carol = await joinAs(n3.port, "carol");
    await alice.send("/msg BOB psst");
    await alice.expect("[pm to bob] psst");
    await bob.expect("[pm from alice] psst");
    await bob.send("/r back to you");
    await alice.expect("[pm from bob] back to you");
    await alice.send("/gm bob, carol, dora, nobody hello all");
    await alice.expect("! no user named nobody is online");
    const sent = await alice.expect(/^\[group to /);
    assert.deepEqual(sent.slice(10, sent.indexOf("]")).split(", ").sort(), [
      "bob",
      "carol",
      "dora",
    ]);
    for (const c of [bob, carol, dora]) await c.expect(/^\[group from alice to .*\] hello all$/);
    await carol.send("/ignore alice");
    await carol.expect(/ignor/);
    await alice.send("/msg carol you will not see this");
    await alice.expect("[pm to carol] you will not see this");
    await alice.send("/msg nobody hi");
    await alice.expect("! no user named nobody is online");
    await bob.send("/msg carol marker");
    const before = await carol.collectUntil("[pm from bob] marker", 5000);
    assert.equal(before.some((l) => l.includes("you will not see this")), false, before.join("\n"));
  },
);

Deno.test({
  name: "cluster: --auto-name with Redis gone tells a newcomer why it gets no name, and closes",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    const { server, port } = await startNode(`${redis.url}/1`, "n1", "--auto-name");
    await using _server = server;
    await redis.stop();
    // node-redis notices the closed connection at once; a newcomer before that still gets in.
    let line = "";
    for (let i = 0; i < 10 && !line.includes("cannot give you a name now"); i++) {
      await using c = await LineClient.connect(port);
      line = await c.expect(/you are guest-|cannot give you a name now/, 5000);
    }
    assert.match(line, /cannot give you a name now \(the cluster cannot be reached\)/);
  },
});

/** What `client` is sent until a line matching `marker`, as lines. */
async function until(client: LineClient, marker: string): Promise<string[]> {
  return await client.collectUntil(marker, 5000);
}

/** How many of `lines` include `text`. */
function times(lines: string[], text: string): number {
  return lines.filter((l) => l.includes(text)).length;
}

clusterTest(
  "joins, leaves, renames and quits on one node are told on the others, once each",
  [],
  async (cluster) => {
    const [n1, n2, n3] = cluster.nodes;
    await using alice = await joinAs(n1.port, "alice");
    await using bob = await joinAs(n2.port, "bob");
    await alice.expect("* bob joined (2 online)");
    const carol = await joinAs(n3.port, "carol");
    await bob.expect("* carol joined (3 online)");
    // A private message goes out after the join it follows: once carol has it, n3 has the join.
    await alice.send("/join #dev");
    await alice.send("/msg carol alice-in");
    await carol.expect(/alice-in/);
    await bob.send("/join #dev");
    await alice.expect("* bob joined #dev (2 here)");
    await bob.send("/msg carol bob-in");
    await carol.expect(/bob-in/);
    await carol.send("/join #dev");
    assert.match(await carol.expect(/you are in #dev/), /\(3 here: carol, /);
    await bob.expect("* carol joined #dev (3 here)");
    await alice.expect("* carol joined #dev (3 here)");
    // In #lobby and #dev with alice: one rename notice, one quit notice.
    await bob.send("/nick bobby");
    await alice.expect("* bob is now bobby");
    // Everyone online is in #dev: said as on one node.
    await carol.send("/users #dev");
    const users = await carol.expect(/^\* \d+ online/);
    assert.match(users, /^\* 3 online: carol, /);
    for (const name of ["alice", "bobby"]) assert.match(users, new RegExp(name));
    await alice.send("/rooms");
    await alice.expect(/#lobby \(3\)/);
    await alice.expect(/#dev \(3\)/);
    await bob.send("/part #dev see you");
    await alice.expect("* bobby left #dev: see you (2 here)");
    await carol.send("/quit");
    await carol.close();
    const before = await until(alice, "* carol left: quit (2 online)");
    assert.equal(times(before, "* bob is now bobby"), 0, "the rename came once");
    await bob.expect("* carol left: quit (2 online)");
    // Sent after n1 told the quit: a second notice would have come before it.
    await bob.send("/msg alice marker");
    const seen = await until(alice, "marker");
    assert.equal(times(seen, "carol left"), 0, seen.join("\n"));
    await bob.send("/users #dev");
    assert.match(await bob.expect(/^\* \d+ in #dev/), /^\* 1 in #dev \(2 online\): alice$/);
  },
);

clusterTest(
  "--announce-up-to counts a room's members on every node",
  ["--announce-up-to", "2"],
  async (cluster) => {
    const [n1, n2, n3] = cluster.nodes;
    await using alice = await joinAs(n1.port, "alice");
    await using bob = await joinAs(n2.port, "bob");
    await using carol = await joinAs(n3.port, "carol");
    await alice.send("/join #pair");
    await bob.send("/join #pair");
    await alice.expect("* bob joined #pair (2 here)");
    await carol.send("/join #pair");
    // Sent after carol's join from n3, so it comes after that join would have.
    await carol.send("/msg alice carol-in");
    const seen = await until(alice, "carol-in");
    assert.equal(times(seen, "carol joined"), 0, seen.join("\n"));
  },
);

clusterTest(
  "the users of a node killed with -9 leave their rooms elsewhere within --node-timeout",
  ["--node-timeout", "1"],
  async (cluster) => {
    const [n1, n2, n3] = cluster.nodes;
    await using alice = await joinAs(n1.port, "alice");
    await using bob = await joinAs(n2.port, "bob");
    const dave = await joinAs(n3.port, "dave");
    await alice.expect("* dave joined (3 online)");
    await dave.send("/join #dev");
    await dave.expect(/you are in #dev/);
    await alice.send("/join #dev");
    await dave.expect("* alice joined #dev (2 here)");
    const started = Date.now();
    n3.server.child.kill("SIGKILL");
    await n3.server.child.status;
    await dave.close();
    await alice.expect("* dave left: node n3 went away (2 online)", 5000);
    assert(Date.now() - started < 3000, `gone after ${Date.now() - started} ms`);
    await bob.expect("* dave left: node n3 went away (2 online)", 5000);
    await alice.send("/users #dev");
    assert.match(await alice.expect(/^\* \d+ in #dev/), /^\* 1 in #dev \(2 online\): alice$/);
    await bob.send("/rooms");
    await bob.expect(/#lobby \(2\)/);
    await alice.send("/msg bob done");
    const seen = await until(bob, "done");
    assert.equal(times(seen, "dave left"), 0, "one quit notice");
  },
);
