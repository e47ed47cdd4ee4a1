// A real Debian IRC client against the real server: ii (FIFO directories) joins #lobby and
// talks with a telnet-style user and a chat-client user both ways, private messages included.
// Where ii is not installed the test is ignored and says why ("skipped: no ii").

import { installed, joinAs, lineInFile, PipedClient, ServerProcess } from "./helpers.ts";

const HAVE_II = installed("ii");
if (!HAVE_II) console.log("skipped: no ii (apt-get install ii)");

/** Writes a line into one of ii's FIFOs. */
async function say(fifo: string, line: string): Promise<void> {
  await Deno.writeTextFile(fifo, `${line}\n`, { append: true });
}

Deno.test({
  name: "ii (a real IRC client) talks with a telnet user and a chat-client user both ways",
  ignore: !HAVE_II,
  async fn() {
    await using server = ServerProcess.onLoopback("--irc-port", "0", "--irc-name", "irc.test");
    const port = await server.port();
    const ircPort = String(await server.port("irc"));
    await using tom = await joinAs(port, "tom");
    const dir = await Deno.makeTempDir();
    const ii = new Deno.Command("ii", {
      args: ["-s", "127.0.0.1", "-p", ircPort, "-n", "iris", "-i", dir],
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      await tom.expect("* iris joined");
      const base = `${dir}/127.0.0.1`;
      await say(`${base}/in`, "/j #lobby");
      await using cli = new PipedClient(["--name", "cara", "--port", String(port)]);
      await cli.expect("welcome, cara!", 10_000);

      await tom.send("hello ii from telnet");
      await lineInFile(`${base}/#lobby/out`, /<tom> hello ii from telnet/);
      await cli.send("hello ii from chat-client");
      await lineInFile(`${base}/#lobby/out`, /<cara> hello ii from chat-client/);

      await say(`${base}/#lobby/in`, "hello all from ii");
      await tom.expect("iris: hello all from ii");
      await cli.expect("<iris> hello all from ii");

      await say(`${base}/in`, "/j tom a private word");
      await tom.expect("[pm from iris] a private word");
      await tom.send("/pm iris a private answer");
      await lineInFile(`${base}/tom/out`, /<tom> a private answer/);
      await cli.send("/pm iris from cara privately");
      await lineInFile(`${base}/cara/out`, /<cara> from cara privately/);

      await say(`${base}/in`, "/q off now");
      await tom.expect("* iris left: quit: off now");
    } finally {
      try {
        ii.kill("SIGTERM");
      } catch {
        // Exited already (after /q).
      }
      await ii.status;
      await Deno.remove(dir, { recursive: true });
    }
  },
});
