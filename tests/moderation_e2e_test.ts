// Bans and mutes end to end over real TCP: an address ban in any spelling or as a range
// refuses a real connection, refused spellings get their reason, and a mute silences
// everything others would see, follows the address and outlasts a restart with --data.

import assert from "node:assert/strict";
import { once } from "node:events";
import net from "node:net";
import { joinAs, LineClient, LineQueue, pump, ServerProcess, startServer } from "./helpers.ts";

/**
 * A line client whose connection comes from `source`, a loopback address other than
 * 127.0.0.1 (node:net binds it; Deno.connect cannot), so one test has two addresses.
 */
class SourcedClient extends LineQueue implements AsyncDisposable {
  readonly #socket: net.Socket;
  readonly #reader: Promise<void>;

  private constructor(socket: net.Socket) {
    super();
    this.#socket = socket;
    this.#reader = pump(socket, this);
  }

  static async connect(port: number, source: string): Promise<SourcedClient> {
    const socket = net.connect({ host: "127.0.0.1", port, localAddress: source });
    await once(socket, "connect");
    return new SourcedClient(socket);
  }

  /** Connects and takes `name`, waiting until the server confirms it. */
  static async join(port: number, source: string, name: string): Promise<SourcedClient> {
    const c = await SourcedClient.connect(port, source);
    await c.expect("choose a name:");
    await c.send(name);
    await c.expect(`welcome, ${name}!`);
    return c;
  }

  send(line: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#socket.write(`${line}\r\n`, (err) => err ? reject(err) : resolve());
    });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#socket.destroy();
    await this.#reader;
  }
}

/** The first line a new connection to `port` on `host` gets, then its end. */
async function firstLine(port: number, host = "127.0.0.1"): Promise<string> {
  await using c = await LineClient.connect(port, host);
  const line = await c.expect(() => true);
  if (line.includes("banned")) await c.expectClosed();
  return line;
}

const REFUSED = "* you are banned from this server for good";

Deno.test("/ban of an address in any spelling or as a range refuses a real connection", async (t) => {
  await using server = startServer();
  const port = server.addr.port;
  const spellings = [
    "127.0.0.1",
    "::ffff:127.0.0.1",
    "::FFFF:7F00:1",
    "0:0:0:0:0:ffff:127.0.0.1",
    "127.0.0.1/32",
    "127.0.0.0/24",
    "127.0.0.0/8",
    "::ffff:127.0.0.0/104",
    "::/0",
  ];
  for (const spelling of spellings) {
    await t.step(spelling, async () => {
      server.console(`/ban ${spelling}`);
      assert.equal(await firstLine(port), REFUSED);
      // Lifted by another spelling of the same range.
      server.console(`/unban ${spelling.replace(/^::ffff:/i, "0::FFFF:")}`);
      assert.match(await firstLine(port), /^welcome to linechat/);
    });
  }
});

Deno.test("/ban covers a client seen as ::ffff:127.0.0.1 on a dual-stack listener, and ::1", async (t) => {
  let server;
  try {
    server = startServer({ hostname: "::" });
  } catch (err) {
    console.log(`skipped: no dual-stack listener on this machine (${err})`);
    return;
  }
  await using _ = server;
  const port = server.addr.port;
  await t.step("/ban 127.0.0.1 refuses 127.0.0.1 arriving as ::ffff:127.0.0.1", async () => {
    server.console("/ban 127.0.0.1");
    assert.equal(await firstLine(port, "127.0.0.1"), REFUSED);
    server.console("/unban ::ffff:127.0.0.1");
    assert.match(await firstLine(port, "127.0.0.1"), /^welcome to linechat/);
  });
  await t.step("/ban 0:0:0:0:0:0:0:1 refuses ::1", async () => {
    server.console("/ban 0:0:0:0:0:0:0:1");
    assert.equal(await firstLine(port, "::1"), REFUSED);
    assert.match(await firstLine(port, "127.0.0.1"), /^welcome to linechat/);
    server.console("/unban ::1");
    assert.match(await firstLine(port, "::1"), /^welcome to linechat/);
  });
});

Deno.test("/ban disconnects everyone online in the range, and only them", async () => {
  await using server = startServer();
  const port = server.addr.port;
  await using watcher = await joinAs(port, "watcher");
  await using a = await SourcedClient.join(port, "127.0.0.2", "a");
  await using b = await SourcedClient.join(port, "127.0.0.3", "b");
  await using c = await SourcedClient.join(port, "127.0.0.9", "c");
  server.console("/ban 127.0.0.2/31 botnet");
  await a.expect("* banned by the server: botnet");
  await a.expectEnd();
  await b.expect("* banned by the server: botnet");
  await b.expectEnd();
  await c.send("still here");
  await watcher.expect("c: still here");
});

Deno.test("/ban and /mute refuse an odd address or duration with the reason, banning nothing", async (t) => {
  const log: string[] = [];
  await using server = startServer({ log: (l) => log.push(l) });
  const port = server.addr.port;
  const cases: [string, string][] = [
    [
      "/ban 127.000.000.001",
      'invalid address "127.000.000.001": "000" has a leading zero, which some tools read as octal',
    ],
    [
      "/ban 127.0.0.01",
      'invalid address "127.0.0.01": "01" has a leading zero, which some tools read as octal',
    ],
    [
      "/ban 127.0.0.1/33",
      'invalid address "127.0.0.1/33": the prefix length must be a whole number from 0 to 32',
    ],
    [
      "/mute 1.2.3",
      'invalid address "1.2.3": an IPv4 address is four numbers from 0 to 255 separated by dots',
    ],
    ["/unban 1::2::3", 'invalid address "1::2::3": :: may appear only once in an IPv6 address'],
    [
      "/ban troll 999999999d",
      'invalid duration "999999999d": use a whole number and s, m, h or d, from 1s to 3650d (or none: for good)',
    ],
  ];
  for (const [line, reply] of cases) {
    await t.step(line, () => {
      server.console(line);
      assert.equal(log.at(-1), `console: ${reply}`);
    });
  }
  server.console("/banned");
  assert.equal(log.at(-1), "console: nobody is banned");
  await using _troll = await joinAs(port, "troll");
});

Deno.test("a mute silences topic, nick, away, join, leave and messages, and follows the address", async (t) => {
  await using server = startServer();
  const port = server.addr.port;
  await using watcher = await joinAs(port, "watcher");
  await using troll = await SourcedClient.join(port, "127.0.0.2", "troll");
  for (const c of [watcher, troll]) {
    await c.send("/join #side");
    await c.expect("* you are in #side");
  }
  await watcher.expect("* troll joined #side (2 here)");
  server.console("/mute troll 1h noise");
  await troll.expect(/^\* you are muted until .* \(noise\)$/);
  await t.step("every line others would see is refused", async () => {
    const tries: [string, string][] = [
      ["hello", "nothing was sent"],
      ["/me waves", "nothing was sent"],
      ["/pm watcher psst", "nothing was sent"],
      ["/topic taken over", "the topic was not changed"],
      ["/nick troll2", "your name was not changed"],
      ["/away gone to spam", "use /away without a reason"],
      ["/join #elsewhere", "you stay in #side"],
      ["/leave", "you stay in #side"],
    ];
    for (const [line, outcome] of tries) {
      await troll.send(line);
      await troll.expect(new RegExp(`^! you are muted until .* \\(noise\\); ${outcome}$`));
    }
    await troll.send("/away");
    await troll.expect("* you are marked as away (away); /back when you return");
    server.console("marker");
    const seen = await watcher.collectUntil("[server] marker");
    assert.deepEqual(seen, ["[server] marker"]);
    await watcher.send("/whois troll");
    await watcher.expect(/^\* troll: in #lobby, #side, .*, away: away$/);
  });
  await t.step("reconnecting under a new name from the same address is still muted", async () => {
    await troll[Symbol.asyncDispose]();
    await watcher.expect("* troll left");
    await watcher.send("/leave");
    await watcher.expect("* now talking in #lobby");
    await using again = await SourcedClient.join(port, "127.0.0.2", "innocent");
    await again.send("hi again");
    await again.expect(/^! you are muted until .* \(noise\); nothing was sent$/);
    await using other = await SourcedClient.join(port, "127.0.0.3", "other");
    await other.send("not muted");
    await watcher.expect("other: not muted");
    server.console("/unmute troll");
    await again.expect("* you may speak again");
    await again.send("heard");
    await watcher.expect("innocent: heard");
  });
  await t.step("/mute of a range covers everyone in it; /unmute takes any spelling", async () => {
    await using x = await SourcedClient.join(port, "127.0.0.4", "x");
    server.console("/mute 127.0.0.4/30");
    await x.expect("* you are muted for good");
    await x.send("/nick y");
    await x.expect("! you are muted for good; your name was not changed");
    server.console("/unmute ::ffff:127.0.0.4/126");
    await x.expect("* you may speak again");
    await x.send("/nick y");
    await x.expect("* you are now y");
  });
});

Deno.test("with --data, a mute of a name and its address outlasts a restart", async () => {
  const dir = await Deno.makeTempDir();
  const args = ["--host", "127.0.0.1", "--port", "0", "--data", `${dir}/chat.db`];
  try {
    {
      await using server = new ServerProcess(args);
      const port = await server.port();
      await using _troll = await SourcedClient.join(port, "127.0.0.2", "troll");
      await server.type("/mute troll 1d noise");
      await server.expect(/console: muted troll until .* \(the name and 127\.0\.0\.2\)$/);
      await server.type("/mute ghost");
      await server.expect("console: muted ghost for good (the name)");
      server.child.kill("SIGTERM");
      assert.equal((await server.exit()).code, 0);
    }
    await using server = new ServerProcess(args);
    const port = await server.port();
    await using byAddress = await SourcedClient.join(port, "127.0.0.2", "newname");
    await byAddress.send("hello");
    await byAddress.expect(/^! you are muted until .* \(noise\); nothing was sent$/);
    await using byName = await joinAs(port, "ghost");
    await byName.send("boo");
    await byName.expect("! you are muted for good; nothing was sent");
    await using free = await joinAs(port, "free");
    await free.send("/topic mine");
    await free.expect("* free set the topic of #lobby: mine");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
