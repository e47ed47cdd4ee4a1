// A second real IRC client from Debian: weechat-headless (CAP negotiation, server-time,
// autojoin) against the real server, talking with a telnet-style user both ways, private
// messages included. Driven through WeeChat's FIFO, read from its logs. Where it is not
// installed the test is ignored and says why ("skipped: no weechat-headless").

import { installed, joinAs, lineInFile, ServerProcess } from "./helpers.ts";

const HAVE_WEECHAT = installed("weechat-headless");
if (!HAVE_WEECHAT) console.log("skipped: no weechat-headless (apt-get install weechat-headless)");

Deno.test({
  name: "weechat-headless (a real IRC client) talks with a telnet user both ways",
  ignore: !HAVE_WEECHAT,
  async fn() {
    await using server = ServerProcess.onLoopback("--irc-port", "0", "--irc-name", "irc.test");
    const port = await server.port();
    const ircPort = String(await server.port("irc"));
    await using tom = await joinAs(port, "tom");
    const dir = await Deno.makeTempDir();
    const setup = [
      "/set logger.file.flush_delay 0",
      "/set irc.server_default.nicks wendy",
      `/server add lc 127.0.0.1/${ircPort}`,
      "/set irc.server.lc.autojoin #lobby",
      "/connect lc",
    ].join(";");
    const weechat = new Deno.Command("weechat-headless", {
      args: ["--dir", dir, "-r", setup],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    const fifo = `${dir}/weechat_fifo_${weechat.pid}`;
    const fifoSay = (line: string) => Deno.writeTextFile(fifo, `${line}\n`, { append: true });
    try {
      await tom.expect("* wendy joined", 10_000);
      const channel = `${dir}/logs/irc.lc.#lobby.weechatlog`;
      await lineInFile(channel, /wendy.*has joined #lobby/);

      await tom.send("hello weechat");
      await lineInFile(channel, /\ttom\thello weechat$/);
      await fifoSay("irc.lc.#lobby *hello telnet");
      await tom.expect("wendy: hello telnet");
      await fifoSay("irc.lc.#lobby */me waves");
      await tom.expect("* wendy waves");

      await tom.send("/pm wendy a secret");
      await lineInFile(`${dir}/logs/irc.lc.tom.weechatlog`, /\ttom\ta secret$/);
      await fifoSay("irc.server.lc */msg tom a secret back");
      await tom.expect("[pm from wendy] a secret back");

      await fifoSay("irc.server.lc */quit see you");
      await tom.expect("* wendy left: quit: see you");
    } finally {
      try {
        weechat.kill("SIGTERM");
      } catch {
        // Exited already (after /quit).
      }
      await weechat.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
