// The README's samples for putting nodes behind one address, tried for real: HAProxy run with
// docs/cluster/haproxy.cfg as it is (the addresses from the environment) in front of three
// nodes on a redis-server, with chat-client connecting through it; docs/cluster/nginx.conf
// checked with `nginx -t`. Each test is ignored, saying so, where its program is missing.

import assert from "node:assert/strict";
import { LineClient, LineQueue, PipedClient, pump, ServerProcess } from "./helpers.ts";
import { freePort, HAVE_REDIS, RedisServer } from "./redis_server.ts";
import { findProgram } from "../bench/servers.ts";

const HAPROXY_CFG = new URL("../docs/cluster/haproxy.cfg", import.meta.url).pathname;
const NGINX_CONF = new URL("../docs/cluster/nginx.conf", import.meta.url).pathname;

const HAPROXY = findProgram("haproxy");
if (!HAPROXY) console.log("skipped: no haproxy (apt-get install haproxy)");
if (!HAVE_REDIS) console.log("skipped: no redis-server (apt-get install redis-server)");

/** Why `nginx -t` cannot check nginx.conf here, or undefined when it can. */
function nginxMissing(): string | undefined {
  if (!findProgram("nginx")) return "no nginx (apt-get install nginx libnginx-mod-stream)";
  const module = "/usr/lib/nginx/modules/ngx_stream_module.so";
  try {
    Deno.statSync(module);
  } catch {
    return `no ${module} (apt-get install libnginx-mod-stream)`;
  }
  // nginx -t opens the access log the file names, as nginx would (root, or the log's owner).
  try {
    Deno.openSync("/var/log/nginx/linechat.log", { append: true, create: true }).close();
  } catch {
    return "nginx -t cannot open /var/log/nginx/linechat.log as this user";
  }
  return undefined;
}

const NGINX_MISSING = nginxMissing();
if (NGINX_MISSING) console.log(`skipped: ${NGINX_MISSING}`);

/** HAProxy in the foreground with docs/cluster/haproxy.cfg; its log lines are queued. */
class Haproxy extends LineQueue implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #stdout: Promise<void>;
  readonly #stderr: Promise<string>;

  private constructor(env: Record<string, string>) {
    super();
    // -db: in the foreground; -V: says when it polls, its listener bound.
    this.#child = new Deno.Command(HAPROXY!, {
      args: ["-db", "-V", "-f", HAPROXY_CFG],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdout = pump(this.#child.stdout, this);
    this.#stderr = new Response(this.#child.stderr).text();
  }

  /** Starts it with `env` (LINECHAT_LISTEN, LINECHAT_N1 ...) and waits until it listens. */
  static async start(env: Record<string, string>): Promise<Haproxy> {
    const haproxy = new Haproxy(env);
    try {
      await haproxy.expect(/^Using \w+\(\) as the polling mechanism/, 10_000);
    } catch (err) {
      await haproxy[Symbol.asyncDispose]();
      throw new Error(`haproxy did not start: ${await haproxy.#stderr}`, { cause: err });
    }
    return haproxy;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.#child.status;
    await this.#stdout;
    await this.#stderr;
  }
}

/**
 * nginx in the foreground with a copy of docs/cluster/nginx.conf whose addresses (and log and
 * pid files) are swapped for the test's; its stderr lines are queued.
 */
class Nginx extends LineQueue implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #stderr: Promise<void>;
  readonly #dir: string;

  private constructor(conf: string, dir: string) {
    super();
    this.#dir = dir;
    this.#child = new Deno.Command(findProgram("nginx")!, {
      args: ["-e", "stderr", "-c", conf, "-g", "daemon off;"],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#stderr = pump(this.#child.stderr, this);
  }

  /** Starts it listening on 127.0.0.1:`listen`, before the nodes on `nodes` (loopback ports). */
  static async start(listen: number, nodes: number[]): Promise<Nginx> {
    const dir = await Deno.makeTempDir({ prefix: "linechat-nginx-" });
    let text = await Deno.readTextFile(NGINX_CONF);
    const swap = (from: string, to: string) => {
      assert.equal(text.split(from).length, 2, `nginx.conf has one "${from}"`);
      text = text.replace(from, to);
    };
    swap("listen 8080;", `listen 127.0.0.1:${listen};`);
    nodes.forEach((port, i) => swap(`server 10.0.0.1${i + 1}:8080 `, `server 127.0.0.1:${port} `));
    swap("/var/log/nginx/linechat.log", `${dir}/linechat.log`);
    swap("pid /run/nginx-linechat.pid;", `pid ${dir}/nginx.pid;`);
    await Deno.writeTextFile(`${dir}/nginx.conf`, text);
    const nginx = new Nginx(`${dir}/nginx.conf`, dir);
    try {
      await nginx.expect(/start worker process \d+/, 10_000);
    } catch (err) {
      await nginx[Symbol.asyncDispose]();
      throw err;
    }
    return nginx;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    // SIGTERM: the master stops its workers before it exits (SIGKILL would leave them).
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // Already exited.
    }
    await this.#child.status;
    await this.#stderr;
    await Deno.remove(this.#dir, { recursive: true });
  }
}

/**
 * A node on `url` named `node` as the README runs them behind a balancer (reading the PROXY
 * line from it, on loopback), forgetting a dead node's names within 1 s.
 */
async function startNode(url: string, node: string): Promise<{
  server: ServerProcess;
  port: number;
}> {
  const server = ServerProcess.onLoopback(
    ...["--engine", url, "--node", node, "--node-timeout", "1", "--proxy-from", "127.0.0.1"],
  );
  return { server, port: await server.port() };
}

/** The node `name` is on, asked by `probe` (a user of node n1) with /whois. */
async function nodeOf(probe: LineClient, name: string): Promise<string> {
  await probe.send(`/whois ${name}`);
  const line = await probe.expect(new RegExp(`^\\* ${name}(: in | is online on node )`), 5000);
  return line.match(/ is online on node (\S+)$/)?.[1] ?? "n1";
}

/**
 * What both samples must do, with three nodes on a fresh redis-server and `start` putting the
 * balancer (disposed at the end) on a free loopback port in front of their ports: spread
 * chat-clients over the nodes, one chat through it, those of a node killed with -9 back on
 * another, and at most 20 connections from one address.
 */
async function behindOneAddress(
  balancer: string,
  start: (listen: number, nodes: number[]) => Promise<AsyncDisposable>,
): Promise<void> {
  await using redis = await RedisServer.start();
  const nodes = await Promise.all(
    ["n1", "n2", "n3"].map((n) => startNode(`${redis.url}/1`, n)),
  );
  await using _nodes = {
    async [Symbol.asyncDispose]() {
      for (const { server } of nodes) await server[Symbol.asyncDispose]();
    },
  };
  const port = freePort();
  await using _balancer = await start(port, nodes.map((n) => n.port));
  // One at a time, each named before the next: "the fewest connections" gives each an empty node.
  const names = ["alice", "bob", "carol"];
  const clients: PipedClient[] = [];
  await using _clients = {
    async [Symbol.asyncDispose]() {
      for (const c of clients) await c[Symbol.asyncDispose]();
    },
  };
  for (const name of names) {
    const client = new PipedClient(["--host", "127.0.0.1", "--port", String(port), "--name", name]);
    clients.push(client);
    await client.expect(`welcome, ${name}!`, 10_000);
  }
  // Straight to n1, which takes loopback for its balancer: the probe sends the PROXY line itself.
  await using probe = await LineClient.connect(nodes[0].port);
  await probe.send(`PROXY TCP4 127.0.0.1 127.0.0.1 1 ${nodes[0].port}`);
  await probe.send("probe");
  await probe.expect("welcome, probe!");
  const where = [];
  for (const name of names) where.push(await nodeOf(probe, name));
  assert.deepEqual([...where].sort(), ["n1", "n2", "n3"], where.join(", "));

  // The nodes see each client's own address and port, from the balancer's PROXY line.
  const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
  await using dora = LineClient.over(tcp);
  await dora.expect("choose a name:", 5000);
  await dora.send("dora");
  await dora.expect("welcome, dora!", 5000);
  const from = `join dora from 127.0.0.1:${(tcp.localAddr as Deno.NetAddr).port} `;
  await Promise.any(nodes.map(({ server }) => server.expect((l) => l.includes(from), 5000)));
  await dora.close();

  // One chat: each one's room messages reach the two on the other nodes.
  for (const [i, client] of clients.entries()) {
    await client.send(`hello from ${names[i]}`);
    for (const [j, other] of clients.entries()) {
      if (j !== i) await other.expect(`<${names[i]}> hello from ${names[i]}`, 5000);
    }
  }

  // The node of whoever is on n3 dies; they reconnect through the balancer and land elsewhere.
  const victim = where.indexOf("n3");
  const n3 = nodes[2].server;
  n3.child.kill("SIGKILL");
  await n3.child.status;
  const client = clients[victim];
  await client.expect(/; reconnecting in 1 s \(attempt 1\)$/, 5000);
  // Its name is free again once n1 and n2 notice n3 is gone (--node-timeout 1).
  await client.expect(`reconnected as ${names[victim]}`, 20_000);
  assert.match(await nodeOf(probe, names[victim]), /^n[12]$/, `through ${balancer}`);
  const speaker = (victim + 1) % 3;
  await clients[speaker].send("still one chat");
  await client.expect(`<${names[speaker]}> still one chat`, 5000);
  await client.send("back again");
  await clients[speaker].expect(`<${names[victim]}> back again`, 5000);

  // The balancer keeps the cap per address the nodes no longer see: 20 at once from one.
  const more: LineClient[] = [];
  try {
    for (let i = clients.length; i < 20; i++) {
      more.push(await LineClient.connect(port));
      await more[more.length - 1].expect("choose a name:", 5000);
    }
    // Refused at once: reset, before or after the connection is reported made, or closed.
    const refused = await LineClient.connect(port).catch((err) => err);
    if (refused instanceof LineClient) {
      await using _ = refused;
      assert.deepEqual(await refused.expectClosed(5000), [], `${balancer} let a 21st in`);
    } else {
      assert(refused instanceof Deno.errors.ConnectionReset, String(refused));
    }
  } finally {
    for (const c of more) await c.close();
  }
}

Deno.test({
  name: "docs/cluster/haproxy.cfg spreads chat-clients over three nodes, one chat; " +
    "those of a node killed with -9 reconnect through it to the others",
  ignore: !HAPROXY || !HAVE_REDIS,
  async fn() {
    await behindOneAddress("haproxy", (listen, nodes) =>
      Haproxy.start({
        LINECHAT_LISTEN: `127.0.0.1:${listen}`,
        ...Object.fromEntries(nodes.map((port, i) => [`LINECHAT_N${i + 1}`, `127.0.0.1:${port}`])),
      }));
  },
});

Deno.test({
  name: "docs/cluster/nginx.conf, its addresses swapped, spreads chat-clients over three nodes, " +
    "one chat; those of a node killed with -9 reconnect through it to the others",
  ignore: NGINX_MISSING !== undefined || !HAVE_REDIS,
  async fn() {
    await behindOneAddress("nginx", Nginx.start);
  },
});

Deno.test({
  name: "docs/cluster/nginx.conf passes nginx -t",
  ignore: NGINX_MISSING !== undefined,
  async fn() {
    const out = await new Deno.Command(findProgram("nginx")!, {
      args: ["-t", "-c", NGINX_CONF],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, /test is successful/);
  },
});

Deno.test("README shows docs/cluster/haproxy.cfg and nginx.conf as they are", async (t) => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  for (const [lang, file] of [["haproxy", HAPROXY_CFG], ["nginx", NGINX_CONF]]) {
    await t.step(lang, async () => {
      const start = readme.indexOf(`\n\`\`\`${lang}\n`);
      assert(start >= 0, `no ${lang} block in the README`);
      const body = readme.slice(start + lang.length + 5, readme.indexOf("\n```\n", start) + 1);
      assert.equal(body, await Deno.readTextFile(file));
    });
  }
});
