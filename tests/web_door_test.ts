// The web door end to end: the real server with --web-port 0, real WebSockets (Deno's) and real
// TCP clients. Browser tests of the page are tests/web/ (deno task test:web).

import {
  deepStrictEqual as assertEquals,
  match as assertMatch,
  ok as assert,
  rejects,
} from "node:assert/strict";
import { joinAs, LineClient, ServerProcess, startServer } from "./helpers.ts";
import { selfSigned } from "./tls_certs.ts";
import { fetchText, WebClient } from "./web_helpers.ts";
import type { ServerEvent } from "../lib/protocol/events.ts";

function assertStringIncludes(text: string, part: string): void {
  assert(text.includes(part), `${JSON.stringify(text)} does not include ${JSON.stringify(part)}`);
}

function webPort(server: { webAddr: Deno.NetAddr | undefined }): number {
  assert(server.webAddr, "the web door is listening");
  return server.webAddr.port;
}

/** A web client that has chosen `name` (and seen its `named`). */
async function namedWeb(port: number, name: string): Promise<WebClient> {
  const web = await WebClient.connect(port);
  await web.expectEvent((e) => e.type === "prompt" && e.for === "name");
  web.send(name);
  await web.expectEvent((e) => e.type === "named" && e.name === name);
  return web;
}

Deno.test("web door serves the page, its script and style, with a strict CSP", async () => {
  await using server = startServer({ web: { port: 0 } });
  const port = webPort(server);
  const page = await fetchText(port, "/");
  assertEquals(page.status, 200);
  assertMatch(page.headers.get("content-type")!, /^text\/html/);
  assertStringIncludes(page.body, "<title>linechat</title>");
  assertStringIncludes(page.headers.get("content-security-policy")!, "default-src 'none'");
  assertEquals(page.headers.get("x-content-type-options"), "nosniff");
  const script = await fetchText(port, "/app.js");
  assertMatch(script.headers.get("content-type")!, /^text\/javascript/);
  assertStringIncludes(script.body, "function nameColour(");
  assertEquals((await fetchText(port, "/app.css")).status, 200);
  assertEquals((await fetchText(port, "/nope")).status, 404);
  assertEquals((await fetchText(port, "/", { method: "POST", body: "x" })).status, 405);
  assertEquals((await fetchText(port, "/ws")).status, 426);
});

Deno.test("web door: a browser client speaks JSON from its first frame, one event a frame", async () => {
  await using server = startServer({ web: { port: 0 } });
  await using web = await WebClient.connect(webPort(server));
  const welcome = JSON.parse(await web.expect(() => true)) as ServerEvent;
  assertEquals(welcome.type, "welcome");
  await web.expectEvent((e) => e.type === "prompt" && e.for === "name");
  web.send("alice");
  await web.expectEvent((e) => e.type === "named" && e.name === "alice");
  for (const line of web.received) assert(line.startsWith("{") && !line.includes("\n"), line);
});

Deno.test("web door: a web user and a telnet user chat both ways, in rooms and in private", async () => {
  await using server = startServer({ web: { port: 0 } });
  await using web = await namedWeb(webPort(server), "alice");
  await using tcp = await joinAs(server.addr.port, "bob");
  await web.expectEvent((e) => e.type === "join" && e.name === "bob");
  web.send("hello from the browser");
  await tcp.expect("alice: hello from the browser");
  await tcp.send("hello from telnet");
  await web.expectEvent((e) =>
    e.type === "message" && e.from === "bob" && e.text === "hello from telnet"
  );
  web.request({ id: 1, cmd: "pm", to: "bob", text: "psst" });
  await web.expectEvent((e) => e.type === "sent" && (e as { id?: number }).id === 1);
  await tcp.expect("[pm from alice] psst");
  await tcp.send("/pm alice back at you");
  await web.expectEvent((e) =>
    e.type === "private" && e.from === "bob" && e.text === "back at you"
  );
  web.send("/join #dev");
  await web.expectEvent((e) => e.type === "room" && e.room === "#dev");
  await tcp.send("/join #dev");
  await web.expectEvent((e) => e.type === "join" && e.room === "#dev" && e.name === "bob");
  web.request({ id: 2, cmd: "say", room: "#lobby", text: "/not a command" });
  await tcp.expect("[#lobby] alice: /not a command");
});

Deno.test("web door: a frame over the line limit gets a bye and a close; the name is freed", async () => {
  await using server = startServer({ web: { port: 0 }, limits: { maxLineBytes: 100 } });
  await using tcp = await joinAs(server.addr.port, "bob");
  await using web = await namedWeb(webPort(server), "alice");
  await tcp.expect("alice joined");
  web.send("é".repeat(51)); // 102 bytes in UTF-8, 51 characters
  const bye = await web.expectEvent((e) => e.type === "bye");
  assertStringIncludes((bye as { reason: string }).reason, "over 100 bytes");
  const { code, reason } = await web.closed;
  assertEquals(code, 1009);
  assertStringIncludes(reason, "over 100 bytes");
  await tcp.expect("alice left");
  assertEquals(server.names, ["bob"]);
});

Deno.test("web door: a frame of exactly the line limit is a line", async () => {
  await using server = startServer({ web: { port: 0 }, limits: { maxLineBytes: 100 } });
  await using bob = await namedWeb(webPort(server), "bob");
  await using web = await namedWeb(webPort(server), "alice");
  web.send("é".repeat(50));
  await bob.expectEvent((e) => e.type === "message" && e.text === "é".repeat(50));
});

Deno.test("web door: a binary frame gets a bye and a close with a reason", async () => {
  await using server = startServer({ web: { port: 0 } });
  await using web = await namedWeb(webPort(server), "alice");
  web.socket.send(new Uint8Array([104, 105]));
  await web.expectEvent((e) => e.type === "bye");
  const { code, reason } = await web.closed;
  assertEquals(code, 1003);
  assertStringIncludes(reason, "binary frames are refused");
});

Deno.test("web door: several lines in one frame are several lines, each counted", async () => {
  await using server = startServer({ web: { port: 0 } });
  await using tcp = await joinAs(server.addr.port, "bob");
  await using web = await namedWeb(webPort(server), "alice");
  web.send("one\r\ntwo\nthree\n");
  await tcp.expect("alice: one");
  await tcp.expect("alice: two");
  await tcp.expect("alice: three");
});

/** An upgrade request with `origin`, as a browser would send it; the response's status. */
async function upgradeStatus(port: number, origin: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/ws`, {
    headers: {
      origin,
      upgrade: "websocket",
      connection: "Upgrade",
      "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==",
      "sec-websocket-version": "13",
    },
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test("web door: an upgrade from another origin is refused unless --web-origin allows it", async () => {
  await using server = startServer({ web: { port: 0, origins: ["https://chat.example"] } });
  const port = webPort(server);
  assertEquals(await upgradeStatus(port, "https://evil.example"), 403);
  assertEquals(await upgradeStatus(port, "null"), 403);
  assertEquals(await upgradeStatus(port, `http://127.0.0.1:${port + 1}`), 403);
  assertEquals(await upgradeStatus(port, `http://127.0.0.1:${port}`), 101);
  assertEquals(await upgradeStatus(port, "https://chat.example"), 101);
});

Deno.test("web door: the per-address cap counts TCP and web sockets together", async () => {
  await using server = startServer({ web: { port: 0 }, limits: { maxPerIp: 1 } });
  await using tcp = await joinAs(server.addr.port, "bob");
  await using web = await WebClient.connect(webPort(server));
  const bye = await web.expectEvent((e) => e.type === "bye");
  assertStringIncludes((bye as { reason: string }).reason, "too many connections");
  assertEquals((await web.closed).code, 1008);
  await tcp.send("/users");
  await tcp.expect("1 online");
});

Deno.test("web door: a web socket counts against the cap of a TCP newcomer", async () => {
  await using server = startServer({ web: { port: 0 }, limits: { maxPerIp: 1 } });
  await using _web = await namedWeb(webPort(server), "alice");
  await using tcp = await LineClient.connect(server.addr.port);
  await tcp.expect("too many connections");
  await tcp.expectClosed();
  assertEquals(server.socketCount, 1);
});

Deno.test("web door: no name within the name timeout gets a bye", async () => {
  await using server = startServer({ web: { port: 0 }, limits: { nameTimeoutMs: 200 } });
  await using web = await WebClient.connect(webPort(server));
  const bye = await web.expectEvent((e) => e.type === "bye");
  assertStringIncludes((bye as { reason: string }).reason, "no name chosen");
  await web.closed;
});

Deno.test("web door: flood control applies to frames as to lines", async () => {
  await using server = startServer({
    web: { port: 0 },
    limits: { ratePerSecond: 1, burst: 3, floodDisconnectLines: 1000 },
  });
  await using web = await namedWeb(webPort(server), "alice");
  for (let i = 0; i < 10; i++) web.send(`line ${i}`);
  await web.expectEvent((e) => e.type === "error" && e.code === "flood");
});

Deno.test("web door: an operator's /kick reaches a web user", async () => {
  await using server = startServer({ web: { port: 0 }, opPassword: "sesame-open-42" });
  await using op = await joinAs(server.addr.port, "chief");
  await op.send("/op sesame-open-42");
  await op.expect("operator");
  await using web = await namedWeb(webPort(server), "alice");
  await op.send("/kick alice spamming");
  const bye = await web.expectEvent((e) => e.type === "bye");
  assertStringIncludes((bye as { reason: string }).reason, "spamming");
  await web.closed;
  await op.expect("alice left");
});

Deno.test("web door: an address banned at the console is refused at the web door too", async () => {
  await using server = startServer({ web: { port: 0 } });
  server.console("/ban 127.0.0.1 1h testing");
  await using web = await WebClient.connect(webPort(server));
  const bye = await web.expectEvent((e) => e.type === "bye");
  assertStringIncludes((bye as { reason: string }).reason, "banned");
  assertEquals((await web.closed).code, 1008);
});

Deno.test("web door: shutdown tells web users and closes their sockets", async () => {
  const server = startServer({ web: { port: 0 } });
  const web = await namedWeb(webPort(server), "alice");
  await server.shutdown();
  await web.expectEvent((e) => e.type === "bye");
  await web.closed;
  assertEquals(server.socketCount, 0);
});

Deno.test("web door: hostile text from telnet reaches the browser as JSON text, no controls", async () => {
  await using server = startServer({ web: { port: 0 } });
  await using web = await namedWeb(webPort(server), "alice");
  await using tcp = await joinAs(server.addr.port, "bob");
  await tcp.send('<img src=x onerror="alert(1)">\x1b[31m red');
  const e = await web.expectEvent((e) => e.type === "message" && e.from === "bob");
  assertEquals((e as { text: string }).text, '<img src=x onerror="alert(1)"> red');
});

Deno.test("web door with TLS serves the page over https on its port", async () => {
  const { cert, key } = await selfSigned();
  await using server = startServer({ tls: { cert, key, port: 0 }, web: { port: 0 } });
  using client = Deno.createHttpClient({ caCerts: [cert] });
  const res = await fetch(`https://127.0.0.1:${webPort(server)}/`, { client });
  assertStringIncludes(await res.text(), "<title>linechat</title>");
  await rejects(fetch(`http://127.0.0.1:${webPort(server)}/`).then((r) => r.text()));
});

Deno.test("server.ts --web-port 0 says `web on HOST:PORT` after `listening on`; bad flags are one line", async () => {
  await using server = ServerProcess.onLoopback("--web-port", "0");
  await server.port();
  const line = await server.expect(/^web on /, 10_000);
  assertMatch(line, /^web on 127\.0\.0\.1:\d+$/);
  const port = Number(line.slice(line.lastIndexOf(":") + 1));
  await using _web = await namedWeb(port, "alice");
  for (
    const [args, pattern] of [
      [["--web-origin", "https://chat.example"], /--web-origin needs --web-port/],
      [["--web-port", "0", "--web-origin", "chat.example"], /invalid --web-origin/],
      [["--web-port", "70000"], /invalid port "70000"/],
    ] as const
  ) {
    const bad = ServerProcess.onLoopback(...args);
    await bad.closeStdin();
    const { code, stderr } = await bad.exit();
    assertEquals(code, 1);
    assertMatch(stderr, pattern);
    assertEquals(stderr.trim().split("\n").length, 1);
  }
  const taken = ServerProcess.onLoopback("--web-port", String(port));
  await taken.closeStdin();
  const { code, stderr } = await taken.exit();
  assertEquals(code, 1);
  assertMatch(stderr, new RegExp(`--web-port: port ${port} is already in use`));
});
