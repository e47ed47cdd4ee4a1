// chat-server with --engine and --node, as a subprocess: a Redis that is not there is one line
// and exit 1, --data is refused with Redis, and a node on a real redis-server (started by the
// test, ignored saying "skipped: no redis-server" where there is none) serves its own users.

import assert from "node:assert/strict";
import { joinAs, LineClient, portOf, ServerProcess } from "./helpers.ts";
import { freePort, HAVE_REDIS, RedisServer } from "./redis_server.ts";
import { startNode, times } from "./cluster_nodes.ts";

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
    const lines = await server.collectUntil(/are shared with the other nodes$/, 10_000);
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
  return await client.expect(/welcome, |taken|looks too much like|is banned/, 5000);
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
    await carol.expect("* bob is now bobby");
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

/** Joins `name` on `port` and makes it an operator (the nodes run with --op-password). */
async function operator(port: number, name = "mod"): Promise<LineClient> {
  const op = await joinAs(port, name);
  await op.send("/op secret");
  await op.expect("* you are now an operator");
  return op;
}

/** What a console line answers in a node's log: its lines up to one matching `last`. */
async function consoleSays(server: ServerProcess, line: string, last: RegExp): Promise<string[]> {
  await server.type(line);
  return await server.collectUntil(last, 5000);
}

/**
 * The scene of the operator tests: an operator on n1, a watcher on n3 and `troll` on n2, whose
 * join the watcher has seen. Each is closed by the caller.
 */
async function scene(cluster: { nodes: { port: number }[] }) {
  const [n1, n2, n3] = cluster.nodes;
  const op = await operator(n1.port);
  const watcher = await joinAs(n3.port, "watcher");
  const troll = await joinAs(n2.port, "troll");
  await watcher.expect("* troll joined");
  return { op, watcher, troll };
}

/** `troll` hears `told` and is disconnected; the watcher on another node sees it leave `why`. */
async function thrownOut(troll: LineClient, watcher: LineClient, told: string, why: string) {
  await troll.expect(told);
  await troll.expectEnd();
  await troll.close();
  await watcher.expect(`* troll left: ${why} (2 online)`);
}

clusterTest(
  "/ban on one node drops the user on another, refuses them on every node; /unban lifts it",
  ["--op-password", "secret"],
  async (cluster) => {
    const [, , n3] = cluster.nodes;
    const { op, watcher, troll } = await scene(cluster);
    await using _op = op;
    await using _watcher = watcher;
    await op.send("/ban Troll spam");
    await op.expect("* banned Troll for good");
    await thrownOut(troll, watcher, "* banned by mod: spam", "banned");
    // Reconnecting to any node is refused, and the list on every node is the cluster's.
    await using again = await LineClient.connect(n3.port);
    assert.match(await offer(again, "troll"), /the name troll is banned for good; choose another/);
    const listed = await consoleSays(n3.server, "/banned", /console: {3}name troll/);
    assert.match(listed.at(-1)!, /console: {3}name troll for good by mod \(spam\)$/);
    await op.send("/unban troll");
    await op.expect("* troll is no longer banned");
    let answer = await offer(again, "troll");
    for (let i = 0; i < 20 && !answer.includes("welcome"); i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await offer(again, "troll");
    }
    assert.match(answer, /welcome, troll!/);
    await op.send("/unban troll");
    await op.expect("! troll is not banned");
  },
);

clusterTest(
  "an address /ban holds on every node, and a ban for a while runs out everywhere",
  ["--op-password", "secret"],
  async (cluster) => {
    const [n1, n2, n3] = cluster.nodes;
    await using op = await operator(n1.port);
    const victims = [await joinAs(n2.port, "victim2"), await joinAs(n3.port, "victim3")];
    // Every test client comes from 127.0.0.1; the operator who types a ban stays.
    await op.send("/ban 127.0.0.0/8 2s botnet");
    await op.expect("* banned 127.0.0.0/8 until");
    for (const victim of victims) {
      await victim.expect("* banned by mod: botnet");
      await victim.expectEnd();
      await victim.close();
    }
    const first = async () => {
      await using c = await LineClient.connect(n3.port);
      return await c.expect(() => true);
    };
    assert.match(await first(), /^\* you are banned from this server until .* \(botnet\)$/);
    const started = Date.now();
    let line = await first();
    while (!line.startsWith("welcome to linechat") && Date.now() - started < 5000) {
      await new Promise((r) => setTimeout(r, 200));
      line = await first();
    }
    assert.match(line, /^welcome to linechat/);
    await op.send("/banned");
    await op.expect("* nobody is banned");
  },
);

clusterTest(
  "/mute on one node silences the user on another; /unmute lets them speak",
  ["--op-password", "secret"],
  async (cluster) => {
    const [, , n3] = cluster.nodes;
    const { op, watcher, troll } = await scene(cluster);
    await using _op = op;
    await using _watcher = watcher;
    await using _troll = troll;
    await op.send("/mute troll noise");
    await op.expect("* muted troll for good (the name)");
    await troll.expect("* you are muted for good (noise)");
    await troll.send("can you hear me");
    await troll.expect("! you are muted for good (noise); nothing was sent");
    // The mute covers troll's address too (n2 adds it): another name from there, elsewhere.
    await using other = await joinAs(n3.port, "other");
    let answer = "";
    for (let i = 0; i < 20 && !answer.startsWith("! you are muted"); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 100));
      await other.send("/away lunch");
      answer = await other.expect(/you are marked as away|^! you are muted/);
    }
    assert.equal(answer, "! you are muted for good (noise); use /away without a reason");
    await op.send("/unmute troll");
    await op.expect("* troll may speak again");
    await troll.expect("* you may speak again");
    await other.expect("* you may speak again");
    await troll.send("heard now");
    await watcher.expect("troll: heard now");
    await op.send("/unmute troll");
    await op.expect("! troll is not muted");
  },
);

clusterTest(
  "/kick of a user on another node: that node kicks them, naming the operator",
  ["--op-password", "secret"],
  async (cluster) => {
    const { op, watcher, troll } = await scene(cluster);
    await using _op = op;
    await using _watcher = watcher;
    await op.send("/kick TROLL flooding");
    await op.expect("* kicked troll (flooding)");
    await thrownOut(troll, watcher, "* kicked by mod: flooding", "kicked");
    await op.send("/kick nobody");
    await op.expect("! no user named nobody is online");
  },
);

clusterTest(
  "/purge #ROOM history forgets it in Redis and on every node",
  ["--op-password", "secret"],
  async (cluster, redis) => {
    const [n1, n2, n3] = cluster.nodes;
    await using op = await operator(n1.port);
    await using alice = await joinAs(n2.port, "alice");
    await alice.send("/join #old");
    await alice.expect(/you are in #old/);
    await alice.send("secret plans");
    await using bob = await joinAs(n3.port, "bob");
    await bob.send("/join #old");
    await bob.expect(/alice: secret plans/);
    await op.send("/purge #old history");
    await op.expect("* the history of #old is gone");
    // Nothing of it is replayed on a node that had it, nor on one started after.
    await bob.send("/part #old");
    await bob.expect(/you are in no room|left #old/);
    await using carol = await joinAs(n3.port, "carol");
    await carol.send("/join #old");
    await carol.expect(/you are in #old/);
    await alice.send("after the purge");
    const seen = await carol.collectUntil(/alice: after the purge/, 5000);
    assert.equal(seen.some((l) => l.includes("secret plans")), false, seen.join("\n"));
    const late = await startNode(`${redis.url}/1`, "n4");
    await using _late = late.server;
    await using dan = await joinAs(late.port, "dan");
    await dan.send("/join #old");
    await dan.expect(/you are in #old/);
    await alice.send("later still");
    const replay = await dan.collectUntil(/alice: later still/, 5000);
    const said = replay.filter((l) => /alice: /.test(l)).map((l) => l.replace(/^.*alice: /, ""));
    assert.deepEqual(said, ["after the purge", "later still"]);
  },
);

clusterTest(
  "/purge #ROOM topic removes the topic on every node, and the room is told there",
  ["--op-password", "secret"],
  async (cluster, redis) => {
    const [n1, n2] = cluster.nodes;
    await using mod = await operator(n1.port);
    await using alice = await joinAs(n2.port, "alice");
    await alice.send("/topic plans for friday");
    await alice.expect("* alice set the topic of #lobby: plans for friday");
    await mod.send("/purge #lobby topic");
    await mod.expect("* the topic of #lobby is gone");
    await alice.expect("* mod removed the topic of #lobby");
    await alice.send("/topic");
    await alice.expect("* #lobby has no topic");
    // Gone from Redis too: a node started now reads no topic.
    const n4 = await startNode(`${redis.url}/1`, "n4");
    await using _n4 = n4.server;
    await using zoe = await joinAs(n4.port, "zoe");
    await zoe.send("/topic");
    await zoe.expect("* #lobby has no topic");
  },
);

Deno.test({
  name:
    "cluster: with Redis gone an operator's /ban, /mute, /kick and /purge are refused, never half done",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    const { server, port } = await startNode(`${redis.url}/1`, "n1", "--op-password", "secret");
    await using _server = server;
    await using op = await operator(port);
    await using _bob = await joinAs(port, "bob");
    await redis.stop();
    const refused = "! not done: the cluster cannot be reached right now; try again";
    // node-redis notices the closed connection at once; a try before that would still get in.
    let answer = "";
    let tries = 0;
    for (; tries < 10 && answer !== refused; tries++) {
      await op.send(`/ban someone${tries}`);
      answer = await op.expect(/^\* banned|^! not done/, 5000);
    }
    assert.equal(answer, refused);
    for (const line of ["/mute bob", "/kick nobody", "/purge #lobby"]) {
      await op.send(line);
      await op.expect(refused, 5000);
    }
    // Nothing of what was refused holds here either.
    await op.send("/banned");
    const listed = await op.collectUntil(/nobody is banned|^\* \d+ banned/);
    await op.send("/users");
    await op.expect(/bob/);
    assert.equal(listed.some((l) => l.includes(`someone${tries - 1}`)), false, listed.join("\n"));
  },
});

clusterTest(
  "a name registered on one node asks for its password on the others, which takes it over; its hash is never logged",
  [],
  async (cluster) => {
    const [n1, n2, n3] = cluster.nodes;
    const alice = await joinAs(n1.port, "alice");
    await alice.send("/register s3cret-pw");
    await alice.expect("* alice is yours now: taking it needs this password");
    // alice stays on n1: the password given on n2 takes the name over from there.
    await using again = await LineClient.connect(n2.port);
    await again.expect("choose a name:");
    await again.send("alice");
    await again.expect("! alice is registered: give its password", 5000);
    await again.send("wrong-pw");
    await again.expect("! wrong password for alice");
    await again.send("s3cret-pw");
    await alice.expect("* alice was taken over with its password from elsewhere", 5000);
    await alice.expectEnd();
    await alice.close();
    await again.expect("welcome, alice!", 5000);
    await again.send("/unregister");
    await again.expect("* alice is no longer registered");
    await again.send("/quit");
    await again.close();
    await using third = await LineClient.connect(n3.port);
    let answer = await offer(third, "alice");
    for (let i = 0; i < 20 && !answer.includes("welcome"); i++) {
      await new Promise((r) => setTimeout(r, 100));
      answer = await offer(third, "alice");
    }
    assert.match(answer, /welcome, alice!/);
    for (const { server } of cluster.nodes) {
      const lines = await consoleSays(server, "/banned", /console: nobody is banned/);
      assert.equal(lines.some((l) => /scrypt|s3cret/.test(l)), false, lines.join("\n"));
    }
  },
);

Deno.test({
  name: "cluster: with Redis gone /register is refused and the name stays free",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    const { server, port } = await startNode(`${redis.url}/1`, "n1");
    await using _server = server;
    await using alice = await joinAs(port, "alice");
    await redis.stop();
    let answer = "";
    for (let i = 0; i < 10 && !answer.startsWith("! not done"); i++) {
      await alice.send("/register s3cret-pw");
      answer = await alice.expect(/is yours now|^! not done/, 5000);
      if (answer.includes("yours")) {
        // Registered before the node noticed Redis was gone: undone while it can be.
        await alice.send("/unregister");
        await alice.expect(/no longer registered|^! not done/, 5000);
      }
    }
    assert.equal(answer, "! not done: the cluster cannot be reached right now; try again");
    // Nothing was kept here either.
    await alice.send("/unregister");
    await alice.expect("! alice is not registered");
  },
});

clusterTest(
  "a topic set on any node reaches every node in the room's order, and joiners get it",
  ["--rate", "0"],
  async (cluster, redis) => {
    const [n1, n2, n3] = cluster.nodes;
    const alice = await joinAs(n1.port, "alice");
    const bob = await joinAs(n2.port, "bob");
    const watchers = [await joinAs(n2.port, "watch2"), await joinAs(n3.port, "watch3")];
    const all = [alice, bob, ...watchers];
    try {
      for (const c of all) {
        await c.send("/join #news");
        await c.expect(/you are in #news/);
      }
      // The last joiner is on n3: once its join is in, every node knows of every member.
      await alice.expect("* watch3 joined #news (4 here)");
      await Promise.all([
        (async () => {
          for (const line of ["a1", "/topic from alice", "a2"]) await alice.send(line);
        })(),
        (async () => {
          for (const line of ["b1", "/topic from bob", "b2"]) await bob.send(line);
        })(),
      ]);
      const wanted = /^(alice: a\d|bob: b\d|\* \w+ set the topic of #news: from \w+)$/;
      const collect = async (c: LineClient) => {
        const lines: string[] = [];
        while (lines.length < 6) lines.push(await c.expect(wanted, 5000));
        return lines;
      };
      // Watchers on two nodes see messages and topic changes in one order.
      const [w2, w3] = await Promise.all(watchers.map(collect));
      assert.deepEqual(w2, w3);
      assert.deepEqual(w2.filter((l) => /alice/.test(l)), [
        "alice: a1",
        "* alice set the topic of #news: from alice",
        "alice: a2",
      ]);
      const last = w2.filter((l) => l.includes("set the topic")).at(-1)!;
      const topic = last.slice(last.indexOf(": ") + 2);
      // A joiner on any node gets it; one on a node where the room is new reads it from Redis.
      await using dave = await joinAs(n1.port, "dave");
      await dave.send("/join #news");
      await dave.expect(`* topic: ${topic}`);
      await dave.send("/join #solo");
      await dave.send("/topic only on n1 so far");
      await dave.expect("* dave set the topic of #solo: only on n1 so far");
      await using carol = await joinAs(n3.port, "carol");
      await carol.send("/join #solo");
      await carol.expect(/topic: only on n1 so far|topic of #solo: only on n1 so far/);
      await watchers[1].send("/topic");
      await watchers[1].expect(`* topic of #news: ${topic} (set by ${topic.slice(5)})`);
      // A node started later has it too.
      const late = await startNode(`${redis.url}/1`, "n4");
      await using _late = late.server;
      await using erin = await joinAs(late.port, "erin");
      await erin.send("/join #news");
      await erin.expect(new RegExp(`topic( of #news)?: ${topic}`));
      // Removed on one node, removed everywhere.
      await bob.send("/topic -delete");
      for (const c of [alice, watchers[1], erin]) {
        await c.expect("* bob removed the topic of #news");
      }
      await erin.send("/topic");
      await erin.expect("* #news has no topic");
    } finally {
      for (const c of all) await c.close();
    }
  },
);

Deno.test({
  name: "cluster: with Redis gone a topic change is refused, never half applied",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    const { server, port } = await startNode(`${redis.url}/1`, "n1");
    await using _server = server;
    await using alice = await joinAs(port, "alice");
    await using bob = await joinAs(port, "bob");
    await alice.send("/topic before");
    await bob.expect("* alice set the topic of #lobby: before");
    await redis.stop();
    // node-redis notices the closed connection at once; a try before that would still get in.
    let answer = "";
    for (let i = 0; i < 10 && !answer.includes("not done"); i++) {
      await alice.send(`/topic after ${i}`);
      answer = await alice.expect(/not done|set the topic/, 5000);
    }
    assert.equal(answer, "! not done: the cluster cannot be reached right now; try again");
    await bob.send("/topic");
    await bob.expect("* topic of #lobby: before (set by alice)");
  },
});

clusterTest(
  "notices keep their flag across nodes, in rooms and in private",
  [],
  async (cluster) => {
    const [n1, n2, n3] = cluster.nodes;
    await using alice = await joinAs(n1.port, "alice");
    await using bob = await joinAs(n2.port, "bob");
    await using carol = await joinAs(n3.port, "carol");
    for (const c of [alice, bob, carol]) {
      await c.send("/proto json");
      await c.expectEvent((e) => e.type === "mode");
    }
    await alice.send(JSON.stringify({ cmd: "say", text: "hear ye", notice: true }));
    await alice.send(JSON.stringify({ cmd: "say", text: "plain" }));
    await alice.send(JSON.stringify({ cmd: "pm", to: "carol", text: "psst", notice: true }));
    await bob.send(JSON.stringify({ cmd: "pm", to: "carol", text: "hi" }));
    // Room lines and private ones take different ways: gathered in whatever order they come.
    const gather = async (c: LineClient, count: number) => {
      const got: string[] = [];
      while (got.length < count) {
        const e = await c.expectEvent((e) => e.type === "message" || e.type === "private", 5000);
        if (e.type === "message" || e.type === "private") {
          got.push(`${e.type} ${e.text} ${e.notice}`);
        }
      }
      return got.sort();
    };
    assert.deepEqual(await gather(bob, 2), ["message hear ye true", "message plain undefined"]);
    assert.deepEqual(await gather(carol, 4), [
      "message hear ye true",
      "message plain undefined",
      "private hi undefined",
      "private psst true",
    ]);
  },
);

clusterTest(
  "/users and /whois show away and operator marks of users on other nodes",
  ["--op-password", "opsecret"],
  async (cluster, redis) => {
    const [n1, n2, n3] = cluster.nodes;
    await using alice = await joinAs(n1.port, "alice");
    await using bob = await joinAs(n2.port, "bob");
    await using carol = await joinAs(n3.port, "carol");
    await bob.send("/away lunch");
    await bob.expect(/you are marked as away/);
    await carol.send("/op opsecret");
    await carol.expect("* you are now an operator");
    // A private message goes out after the status it follows: once alice has it, n1 has both.
    await bob.send("/msg alice b-marked");
    await alice.expect(/b-marked/);
    await carol.send("/msg alice c-marked");
    await alice.expect(/c-marked/);
    await alice.send("/users #lobby");
    const users = await alice.expect(/online: /);
    for (const mark of ["bob (away)", "@carol", "alice"]) assert(users.includes(mark), users);
    await alice.send("/users *");
    const everyone = await alice.expect(/online: /);
    for (const mark of ["bob (away)", "@carol"]) assert(everyone.includes(mark), everyone);
    await alice.send("/whois bob");
    await alice.expect("* bob is online on node n2, away: lunch");
    await alice.send("/whois carol");
    await alice.expect("* carol is online on node n3, an operator");
    await alice.send("/msg bob are you there");
    await alice.expect("[pm to bob] are you there");
    await alice.expect("* bob is away: lunch");
    // A node started later reads the marks with who is where.
    const late = await startNode(`${redis.url}/1`, "n4", "--op-password", "opsecret");
    await using _late = late.server;
    await using dora = await joinAs(late.port, "dora");
    await dora.send("/users #lobby");
    const seen = await dora.expect(/online: /);
    for (const mark of ["bob (away)", "@carol"]) assert(seen.includes(mark), seen);
    // Back again: the mark goes everywhere.
    await bob.send("/back");
    await bob.expect("* welcome back");
    await bob.send("/msg alice b-back");
    await alice.expect(/b-back/);
    await alice.send("/users #lobby");
    const after = await alice.expect(/online: /);
    assert(!after.includes("(away)") && after.includes("bob"), after);
  },
);

clusterTest(
  "/motd set by an operator on one node is every node's; --motd is written at start",
  ["--op-password", "opsecret"],
  async (cluster, redis) => {
    const [n1, n2, n3] = cluster.nodes;
    await using alice = await joinAs(n1.port, "alice");
    await using bob = await joinAs(n2.port, "bob");
    await using watcher = await joinAs(n3.port, "watcher");
    await alice.send("/motd not yet");
    await alice.expect("! not allowed: setting the motd is for operators");
    await alice.send("/op opsecret");
    await alice.expect("* you are now an operator");
    await alice.send("/motd shared for all");
    await alice.expect("* the message of the day is set");
    await alice.send("/motd");
    await alice.expect(/shared for all/);
    // Told through Redis like a room line: a line alice sends after it reaches n2 and n3 after it.
    await alice.send("after the motd");
    await bob.expect("alice: after the motd");
    await watcher.expect("alice: after the motd");
    await bob.send("/motd");
    await bob.expect(/shared for all/);
    await using carol = await LineClient.connect(n3.port);
    await carol.expect("choose a name:");
    await carol.send("carol");
    const greeting = await carol.collectUntil(/welcome, carol!/);
    await carol.expect(/shared for all/);
    assert.equal(greeting.some((l) => l.includes("shared for all")), false);
    // A node started with --motd writes it for everyone; one started without reads it.
    const file = await Deno.makeTempFile();
    try {
      await Deno.writeTextFile(file, "from the file\n");
      const withMotd = await startNode(`${redis.url}/1`, "n4", "--motd", file);
      await using _n4 = withMotd.server;
      const bare = await startNode(`${redis.url}/1`, "n5");
      await using _n5 = bare.server;
      for (const port of [n1.port, bare.port]) {
        await using c = await LineClient.connect(port);
        await c.expect("choose a name:");
        await c.send(`late${port}`);
        await c.expect(/from the file/, 5000);
      }
    } finally {
      await Deno.remove(file);
    }
  },
);

Deno.test({
  name: "cluster: with Redis gone /motd TEXT is refused, never half applied",
  ignore: !HAVE_REDIS,
  async fn() {
    await using redis = await RedisServer.start();
    const { server, port } = await startNode(
      `${redis.url}/1`,
      "n1",
      "--op-password",
      "opsecret",
    );
    await using _server = server;
    await using alice = await joinAs(port, "alice");
    await alice.send("/op opsecret");
    await alice.expect("* you are now an operator");
    await alice.send("/motd before");
    await alice.expect("* the message of the day is set");
    await redis.stop();
    let answer = "";
    for (let i = 0; i < 10 && !answer.includes("not done"); i++) {
      await alice.send(`/motd after ${i}`);
      answer = await alice.expect(/not done|message of the day is set/, 5000);
    }
    assert.equal(answer, "! not done: the cluster cannot be reached right now; try again");
    await alice.send("/motd");
    await alice.expect(/before/);
  },
});

clusterTest(
  "rooms' history in Redis is forgotten past --retain-messages, the oldest room first",
  // 100 messages at 50 kept per room: two rooms' history; a prune at every heartbeat (1/3 s).
  ["--rate", "0", "--retain-messages", "100", "--node-timeout", "1"],
  async (cluster) => {
    const [n1, n2] = cluster.nodes;
    await using alice = await joinAs(n1.port, "alice");
    for (const room of ["#a", "#b", "#c"]) {
      await alice.send(`/join ${room}`);
      await alice.expect(new RegExp(`you are in ${room}`));
      await alice.send(`said in ${room}`);
    }
    await Promise.any(
      cluster.nodes.map(({ server }) =>
        server.expect(/engine: forgot the history of 1 rooms/, 5000)
      ),
    );
    await using bob = await joinAs(n2.port, "bob");
    await bob.send("/join #c");
    await bob.expect("alice: said in #c");
    await bob.send("/join #a");
    await alice.expect("* bob joined #a (2 here)");
    // A replay comes before the lines said after the join.
    await alice.send("/msg #a now in #a");
    const seen = await bob.collectUntil("alice: now in #a", 5000);
    assert.equal(seen.filter((l) => l.includes("said in #a")).length, 0, seen.join("\n"));
  },
);
