// The IRC door end to end over real TCP: an IRC socket client and a telnet-style text client
// (and a JSON bot) in one room, both ways; registration, numerics, IRCv3, the 512-byte line,
// hostile text, mutes, bans and passwords through the door.

import assert from "node:assert/strict";
import { joinAs, LineClient, ServerProcess, startServer } from "./helpers.ts";
import type { ChatServerOptions } from "../lib/server/server.ts";
import { selfSigned } from "./tls_certs.ts";

const NAME = "irc.test";

function ircServer(options: ChatServerOptions = {}) {
  return startServer({ irc: { name: NAME, port: 0 }, ...options });
}

/** Registers `nick` on the IRC port (with `caps`), waiting for the end of #lobby's NAMES. */
async function ircAs(port: number, nick: string, caps: string[] = []): Promise<LineClient> {
  const c = await LineClient.connect(port);
  if (caps.length > 0) await c.send("CAP LS 302");
  await c.send(`NICK ${nick}`);
  await c.send(`USER ${nick} 0 * :${nick} the tester`);
  if (caps.length > 0) {
    await c.send(`CAP REQ :${caps.join(" ")}`);
    await c.expect(`CAP * ACK :${caps.join(" ")}`);
    await c.send("CAP END");
  }
  await c.expect(`:${NAME} 366 ${nick} #lobby `);
  return c;
}

/** Every line an IRC client got is one IRC line: at most 512 bytes with CRLF, no bare CR. */
function wellFormed(lines: string[]): void {
  for (const line of lines) {
    const withoutTags = line.startsWith("@") ? line.slice(line.indexOf(" ") + 1) : line;
    assert.ok(new TextEncoder().encode(withoutTags).length <= 510, `too long: ${line}`);
    assert.ok(!/[\r\n\0]/.test(line), `broken: ${JSON.stringify(line)}`);
  }
}

Deno.test("IRC registration: 451 before it (no disconnect), then 001-005, motd and #lobby", async () => {
  await using server = ircServer({ motd: ["be kind"] });
  await using c = await LineClient.connect(server.ircAddr!.port);
  await c.send("JOIN :");
  await c.expect(`:${NAME} 451 * :You have not registered`);
  await c.send("PRIVMSG #lobby :too early");
  await c.expect(" 451 ");
  await c.send("NICK ivy");
  await c.send("USER ivy 0 * :Ivy");
  await c.expect(`:${NAME} 001 ivy :Welcome`);
  await c.expect(`:${NAME} 004 ivy ${NAME} linechat-`);
  const isupport = await c.expect(" 005 ");
  for (
    const token of ["CHANTYPES=#", "NICKLEN=24", "CHANNELLEN=25", "CASEMAPPING=ascii", "TOPICLEN="]
  ) {
    assert.ok(isupport.includes(token), `${token} in ${isupport}`);
  }
  await c.expect(`:${NAME} 372 ivy :- be kind`);
  await c.expect(`:${NAME} 376 ivy `);
  await c.expect(":ivy!ivy@linechat JOIN #lobby");
  await c.expect(`:${NAME} 353 ivy = #lobby :ivy`);
  await c.expect(`:${NAME} 366 ivy #lobby `);
  await c.send("PING :abc");
  await c.expect(`:${NAME} PONG ${NAME} :abc`);
  assert.deepEqual(server.names, ["ivy"]);
});

Deno.test("IRC registration without a motd says 422; a taken or invalid nick gets 433/432", async () => {
  await using server = ircServer();
  await using t = await joinAs(server.addr.port, "tom");
  await using c = await LineClient.connect(server.ircAddr!.port);
  await c.send("NICK tom");
  await c.send("USER x 0 * :x");
  await c.expect(`:${NAME} 433 * tom `);
  await c.send("NICK a.b");
  await c.expect(`:${NAME} 432 * a.b `);
  await c.send("NICK tim");
  await c.expect(`:${NAME} 001 tim `);
  await c.expect(`:${NAME} 422 tim `);
  await t.expect("* tim joined");
});

Deno.test("IRC and text clients share #lobby both ways: messages, actions, private messages", async () => {
  await using server = ircServer();
  await using t = await joinAs(server.addr.port, "tom");
  await using c = await ircAs(server.ircAddr!.port, "ivy");
  await t.expect("* ivy joined");

  await t.send("hello from telnet");
  await c.expect(":tom!tom@linechat PRIVMSG #lobby :hello from telnet");
  await c.send("PRIVMSG #lobby :hello from irc");
  await t.expect("ivy: hello from irc");

  await c.send("PRIVMSG #lobby :\x01ACTION waves\x01");
  await t.expect("* ivy waves");
  await t.send("/me bows");
  await c.expect(":tom!tom@linechat PRIVMSG #lobby :\x01ACTION bows\x01");

  await c.send("PRIVMSG tom :psst");
  await t.expect("[pm from ivy] psst");
  await t.send("/pm ivy psst back");
  await c.expect(":tom!tom@linechat PRIVMSG ivy :psst back");

  await c.send("PRIVMSG nobody :hi");
  await c.expect(`:${NAME} 401 ivy nobody `);
  await c.send("PRIVMSG #elsewhere :hi");
  await c.expect(`:${NAME} 404 ivy #elsewhere `);
  await c.send("NOTICE #lobby :a notice");
  await t.expect("ivy: a notice");
  wellFormed(c.received);
});

Deno.test("IRC JOIN, TOPIC, NAMES, WHO, WHOIS, LIST, AWAY, NICK, PART and QUIT reach the others", async () => {
  await using server = ircServer({ limits: { ratePerSecond: 0 } });
  await using t = await joinAs(server.addr.port, "tom");
  await using c = await ircAs(server.ircAddr!.port, "ivy");
  await t.send("/join #dev");
  await t.send("/topic all about dev");
  await t.expect("all about dev");
  await c.send("JOIN #dev");
  await c.expect(":ivy!ivy@linechat JOIN #dev");
  await c.expect(`:${NAME} 332 ivy #dev :all about dev`);
  await c.expect(`:${NAME} 353 ivy = #dev :tom ivy`);
  await c.expect(`:${NAME} 366 ivy #dev `);
  await t.expect("* ivy joined #dev");

  await c.send("TOPIC #dev :new topic");
  await c.expect(":ivy!ivy@linechat TOPIC #dev :new topic");
  await t.expect("new topic");
  await c.send("TOPIC #nowhere :x");
  await c.expect(`:${NAME} 403 ivy #nowhere `);
  await t.send("/join #tomonly");
  await t.expect("you are in #tomonly");
  await c.send("TOPIC #tomonly :x");
  await c.expect(`:${NAME} 442 ivy #tomonly `);

  await c.send("NAMES #dev");
  await c.expect(`:${NAME} 353 ivy = #dev :tom ivy`);
  await c.send("WHO #dev");
  await c.expect(`:${NAME} 352 ivy #dev tom linechat ${NAME} tom H :0 tom`);
  await c.expect(`:${NAME} 315 ivy #dev `);
  await c.send("WHOIS tom");
  await c.expect(`:${NAME} 311 ivy tom tom linechat * :tom`);
  await c.expect(`:${NAME} 319 ivy tom :#dev #lobby`);
  await c.expect(`:${NAME} 318 ivy tom `);
  await c.send("WHOIS nobody");
  await c.expect(`:${NAME} 401 ivy nobody `);
  await c.send("LIST");
  await c.expect(`:${NAME} 322 ivy #dev 2 :new topic`);
  await c.expect(`:${NAME} 323 ivy `);
  await c.send("MODE #dev");
  await c.expect(`:${NAME} 324 ivy #dev :+`);

  await c.send("AWAY :lunch");
  await c.expect(`:${NAME} 306 ivy `);
  await t.send("/whois ivy");
  await t.expect("lunch");
  await t.send("/away meeting");
  await t.expect("away");
  await c.send("PRIVMSG tom :are you there");
  await c.expect(`:${NAME} 301 ivy tom :meeting`);
  await t.send("/back");
  await c.send("AWAY");
  await c.expect(`:${NAME} 305 ivy `);

  await t.send("/nick tommy");
  await c.expect(":tom!tom@linechat NICK tommy");
  await c.send("NICK ivan");
  await c.expect(":ivy!ivy@linechat NICK ivan");
  await t.expect("* ivy is now ivan");

  await t.send("/part #dev later");
  await c.expect(":tommy!tommy@linechat PART #dev :later");
  await c.send("PART #dev :bye now");
  await c.expect(":ivan!ivan@linechat PART #dev :bye now");
  await c.send("PART #dev");
  await c.expect(`:${NAME} 442 ivan #dev `);

  await c.send("QUIT :gone fishing");
  await c.expect("ERROR :");
  await t.expect("* ivan left: quit: gone fishing");
  await c.expectClosed();
  wellFormed(c.received);
});

Deno.test("IRC: a text client's quit and a history replay reach the IRC client", async () => {
  await using server = ircServer();
  await using t = await joinAs(server.addr.port, "tom");
  await t.send("said before");
  await using c = await ircAs(server.ircAddr!.port, "ivy", ["server-time"]);
  const replay = await c.expect("said before");
  assert.match(
    replay,
    /^@time=\d{4}-\d\d-\d\dT[\d:.]+Z :tom!tom@linechat PRIVMSG #lobby :said before$/,
  );
  await using plain = await ircAs(server.ircAddr!.port, "ned");
  await plain.expect(/PRIVMSG #lobby :\[\d\d:\d\d\] said before$/);
  await t.send("/quit bye all");
  await c.expect(":tom!tom@linechat QUIT :quit: bye all");
});

Deno.test("IRCv3: CAP LS/REQ/LIST, echo-message echoes room and private messages", async () => {
  await using server = ircServer();
  await using t = await joinAs(server.addr.port, "tom");
  await using c = await LineClient.connect(server.ircAddr!.port);
  await c.send("CAP LS 302");
  await c.expect(`:${NAME} CAP * LS :server-time echo-message multi-prefix`);
  await c.send("NICK ivy");
  await c.send("USER ivy 0 * :Ivy");
  await c.send("CAP REQ :echo-message bogus");
  await c.expect(`:${NAME} CAP * NAK :echo-message bogus`);
  await c.send("CAP REQ :echo-message multi-prefix");
  await c.expect(`:${NAME} CAP * ACK :echo-message multi-prefix`);
  await c.send("CAP LIST");
  await c.expect(`:${NAME} CAP * LIST :echo-message multi-prefix`);
  assert.equal(server.names.length, 1, "registration waits for CAP END");
  await c.send("CAP END");
  await c.expect(" 366 ivy #lobby ");
  await c.send("PRIVMSG #lobby :echoed");
  await c.expect(":ivy!ivy@linechat PRIVMSG #lobby :echoed");
  await c.send("PRIVMSG tom :to you");
  await c.expect(":ivy!ivy@linechat PRIVMSG tom :to you");
  await t.expect("[pm from ivy] to you");
});

Deno.test("IRC's 512-byte line: a longer input line gets 417, a long message arrives split", async () => {
  await using server = ircServer();
  await using t = await joinAs(server.addr.port, "tom");
  await using c = await ircAs(server.ircAddr!.port, "ivy");
  const fits = `PRIVMSG #lobby :${"y".repeat(510 - "PRIVMSG #lobby :".length)}`;
  await c.send(fits);
  await t.expect(`ivy: ${"y".repeat(40)}`);
  await c.send(`${fits}z`);
  await c.expect(`:${NAME} 417 ivy `);
  await c.send(`PRIVMSG #lobby :${"x".repeat(600)}`);
  await c.expect(`:${NAME} 417 ivy `);
  await c.sendRaw(
    new Uint8Array([...new TextEncoder().encode("PRIVMSG #lobby :bad "), 0xe8, 0x0d, 0x0a]),
  );
  await c.expect(`:${NAME} FAIL PRIVMSG INVALID_UTF8 `);
  await c.send("PRIVMSG #lobby :still here");
  await t.expect("ivy: still here");
  const long = Array.from({ length: 300 }, (_, i) => `w${i}`).join(" ");
  await t.send(long);
  const lines = await c.collectUntil("w299");
  const pieces = lines.filter((l) => l.startsWith(":tom!tom@linechat PRIVMSG #lobby :"));
  assert.ok(pieces.length >= 3, `${pieces.length} pieces`);
  assert.equal(pieces.map((l) => l.slice(l.indexOf(" :") + 2)).join(" "), long);
  wellFormed(c.received);
});

Deno.test("IRC: a bot's text with CR or LF never splits an IRC line", async () => {
  await using server = ircServer();
  await using c = await ircAs(server.ircAddr!.port, "ivy");
  await using bot = await LineClient.connect(server.addr.port);
  await bot.send("/proto json");
  await bot.send('{"cmd":"nick","nick":"bot"}');
  await bot.send('{"cmd":"say","text":"one\\r\\nQUIT :pwned\\rJOIN #x\\u0000end"}');
  await bot.send('{"cmd":"topic","text":"t\\r\\nPRIVMSG ivy :fake"}');
  await bot.send('{"cmd":"pm","to":"ivy","text":"a\\nb"}');
  await c.expect(":bot!bot@linechat PRIVMSG ivy :");
  for (const line of c.received) {
    assert.ok(!/^(QUIT|JOIN|PRIVMSG)/.test(line), line);
  }
  wellFormed(c.received);
});

Deno.test("IRC: no way around a mute, an address ban or the join password", async (t) => {
  await t.step("a muted IRC user's PRIVMSG is refused with 404", async () => {
    await using server = ircServer({ opPassword: "op-pw" });
    await using op = await joinAs(server.addr.port, "boss");
    await op.send("/op op-pw");
    await op.expect("now an operator");
    await using c = await ircAs(server.ircAddr!.port, "ivy");
    await op.send("/mute ivy 1h noisy");
    await op.expect("muted");
    await c.send("PRIVMSG #lobby :can you hear me");
    await c.expect(`:${NAME} 404 ivy #lobby `);
  });
  await t.step("a banned address is told with ERROR and closed", async () => {
    await using server = ircServer({ opPassword: "op-pw" });
    await using op = await joinAs(server.addr.port, "boss");
    await op.send("/op op-pw");
    await op.expect("now an operator");
    await op.send("/ban 127.0.0.1 1h");
    await op.expect("banned");
    await using c = await LineClient.connect(server.ircAddr!.port);
    await c.expect(/^ERROR :Closing link: /);
    await c.expectClosed();
  });
  await t.step("PASS is the join password: none or a wrong one gets 464", async () => {
    await using server = ircServer({ password: "letmein", limits: { authDelayMs: 0 } });
    await using none = await LineClient.connect(server.ircAddr!.port);
    await none.send("NICK ivy");
    await none.send("USER ivy 0 * :Ivy");
    await none.expect(`:${NAME} 464 * `);
    await none.expectClosed();
    await using wrong = await LineClient.connect(server.ircAddr!.port);
    await wrong.send("PASS nope");
    await wrong.send("NICK ivy");
    await wrong.send("USER ivy 0 * :Ivy");
    await wrong.expect(`:${NAME} 464 * `);
    await wrong.expectClosed();
    await using right = await LineClient.connect(server.ircAddr!.port);
    await right.send("PASS letmein");
    await right.send("NICK ivy");
    await right.send("USER ivy 0 * :Ivy");
    await right.expect(`:${NAME} 001 ivy `);
  });
});

Deno.test("IRC OPER maps to /op; KICK, MUTE and BAN to the operator commands", async () => {
  await using server = ircServer({ opPassword: "op-pw", limits: { authDelayMs: 0 } });
  await using t = await joinAs(server.addr.port, "tom");
  await using c = await ircAs(server.ircAddr!.port, "ivy");
  await c.send("KICK #lobby tom :out");
  await c.expect(`:${NAME} 481 ivy `);
  await c.send("OPER ivy wrong");
  await c.expect(`:${NAME} 464 ivy `);
  await c.send("OPER ivy op-pw");
  await c.expect(`:${NAME} 381 ivy `);
  await c.send("MUTE tom 10m too loud");
  await c.expect(`:${NAME} NOTICE ivy :`);
  await t.send("can you hear me");
  await t.expect("muted");
  await c.send("UNMUTE tom");
  await c.expect(`:${NAME} NOTICE ivy :`);
  await t.send("and now");
  await c.expect(":tom!tom@linechat PRIVMSG #lobby :and now");
  await c.send("KICK #lobby tom :out");
  await t.expectClosed();
  await c.expect(":tom!tom@linechat QUIT :");
});

Deno.test("IRC over TLS (--irc-tls-port) registers like plain IRC", async () => {
  const { cert, key } = await selfSigned();
  await using server = startServer({
    tls: { cert, key, port: 0 },
    irc: { name: NAME, tlsPort: 0 },
  });
  const conn = await Deno.connectTls({
    hostname: "127.0.0.1",
    port: server.ircTlsAddr!.port,
    caCerts: [cert],
  });
  await using c = LineClient.over(conn);
  await c.send("NICK ivy");
  await c.send("USER ivy 0 * :Ivy");
  await c.expect(`:${NAME} 001 ivy `);
  await c.expect(" 366 ivy #lobby ");
});

Deno.test("chat-server --irc-port 0 prints `irc on HOST:PORT` after `listening on`", async () => {
  await using server = ServerProcess.onLoopback("--irc-port", "0", "--irc-name", NAME);
  await server.port();
  const port = await server.port("irc");
  await using c = await ircAs(port, "ivy");
  await c.send("QUIT");
  await c.expectClosed();
});

Deno.test("IRC SASL PLAIN logs in to a registered name; a wrong password gets 904", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await using server = ircServer({ dataFile: `${dir}/chat.db`, limits: { authDelayMs: 0 } });
    {
      await using rita = await joinAs(server.addr.port, "rita");
      await rita.send("/register hunter22");
      await rita.expect("rita is yours now");
      await rita.send("/quit");
      await rita.expectClosed();
    }
    const plain = (user: string, pw: string) => btoa(`\0${user}\0${pw}`);
    await using wrong = await LineClient.connect(server.ircAddr!.port);
    await wrong.send("CAP LS 302");
    await wrong.expect("sasl=PLAIN");
    await wrong.send("CAP REQ :sasl");
    await wrong.send("AUTHENTICATE PLAIN");
    await wrong.expect("AUTHENTICATE +");
    await wrong.send(`AUTHENTICATE ${plain("rita", "nope")}`);
    await wrong.expect(`:${NAME} 904 * `);
    await wrong.send("AUTHENTICATE PLAIN");
    await wrong.send(`AUTHENTICATE ${plain("nobody", "x")}`);
    await wrong.expect(`:${NAME} 904 * `);

    await using c = await LineClient.connect(server.ircAddr!.port);
    await c.send("CAP LS 302");
    await c.send("CAP REQ :sasl");
    await c.send("AUTHENTICATE PLAIN");
    await c.expect("AUTHENTICATE +");
    await c.send(`AUTHENTICATE ${plain("rita", "hunter22")}`);
    await c.expect(`:${NAME} 900 * rita!rita@linechat rita `);
    await c.expect(`:${NAME} 903 * `);
    await c.send("NICK rita");
    await c.send("USER rita 0 * :Rita");
    await c.send("CAP END");
    await c.expect(`:${NAME} 001 rita `);
    await c.expect(" 366 rita #lobby ");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("IRC flood control delays lines rather than dropping them; too many waiting disconnects", async () => {
  await using server = ircServer({ limits: { ratePerSecond: 100, burst: 5 } });
  await using t = await joinAs(server.addr.port, "tom");
  await using c = await ircAs(server.ircAddr!.port, "ivy");
  const lines = Array.from({ length: 30 }, (_, i) => `PRIVMSG #lobby :line ${i}`);
  await c.sendRaw(new TextEncoder().encode(lines.map((l) => `${l}\r\n`).join("")));
  const got = await t.collectUntil("ivy: line 29", 5000);
  assert.deepEqual(
    got.filter((l) => l.startsWith("ivy: line")),
    lines.map((_, i) => `ivy: line ${i}`),
  );
  assert.ok(!c.received.some((l) => l.includes("slow down")), "nothing dropped");

  const flood = Array.from({ length: 200 }, (_, i) => `PRIVMSG #lobby :flood ${i}\r\n`).join("");
  await c.sendRaw(new TextEncoder().encode(flood));
  await c.expect("ERROR :Closing link: Excess Flood");
  await c.expectClosed();
});

Deno.test("IRC: a client ending lines with CRLF (as every IRC client does) never gets a telnet byte", async () => {
  await using server = ircServer();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.ircAddr!.port });
  try {
    await conn.write(new TextEncoder().encode("NICK crlf\r\nUSER crlf 0 * :C\r\nPING :x\r\n"));
    const got: number[] = [];
    const buf = new Uint8Array(4096);
    // Until the PONG, which comes after registration's every line.
    while (!new TextDecoder().decode(Uint8Array.from(got)).includes("PONG")) {
      const n = await conn.read(buf);
      if (n === null) break;
      got.push(...buf.subarray(0, n));
    }
    assert.ok(new TextDecoder().decode(Uint8Array.from(got)).includes(" 001 crlf "));
    assert.ok(!got.includes(0xff), "no IAC");
    assert.ok(!got.includes(0x1b), "no escape");
  } finally {
    conn.close();
  }
});

Deno.test("IRC NOTICE arrives as a NOTICE on IRC (bots never answer it), as a line elsewhere", async () => {
  await using server = ircServer();
  const port = server.ircAddr!.port;
  await using a = await ircAs(port, "ann");
  await using b = await ircAs(port, "bot");
  await using t = await joinAs(server.addr.port, "tom");
  await a.send("NOTICE #lobby :the build is green");
  await b.expect(":ann!ann@linechat NOTICE #lobby :the build is green");
  await t.expect("ann: the build is green");
  await a.send("NOTICE bot :psst");
  await b.expect(":ann!ann@linechat NOTICE bot :psst");
  await a.send("PRIVMSG #lobby :a plain one");
  await b.expect(":ann!ann@linechat PRIVMSG #lobby :a plain one");
  // A JSON bot sees the flag.
  await using j = await LineClient.connect(server.addr.port);
  await j.send("/proto json");
  await j.send("jay");
  await j.expectEvent((e) => e.type === "named");
  await a.send("NOTICE #lobby :to the bot too");
  const e = await j.expectEvent((e) => e.type === "message" && !e.history);
  assert.equal(e.type === "message" && e.notice, true);
});

Deno.test("IRC: a 0xFF byte is not UTF-8 (FAIL INVALID_UTF8), never a telnet command eating the next byte", async () => {
  await using server = ircServer();
  await using alice = await ircAs(server.ircAddr!.port, "alice");
  await using bob = await joinAs(server.addr.port, "bob");
  const text = (t: string) => [...new TextEncoder().encode(t)];
  // As telnet, 0xFF 0xFB is "IAC WILL" and eats the "A": "the byte  stays" would go out.
  await alice.sendRaw(
    new Uint8Array([...text("PRIVMSG #lobby :the byte "), 0xff, 0xfb, ...text("A stays\r\n")]),
  );
  await alice.expect(`:${NAME} FAIL PRIVMSG INVALID_UTF8 :Message rejected: use UTF-8`);
  await alice.send("PRIVMSG #lobby :plain");
  assert.deepEqual(await bob.collectUntil("alice: plain"), ["alice: plain"]);
});
