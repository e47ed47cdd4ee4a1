// A real Debian IRC client against the real server: ii (FIFO directories) joins #lobby and
// talks with a telnet-style user and a chat-client user both ways, private messages included.
// Where ii is not installed the test is ignored and says why ("skipped: no ii").

import { joinAs, PipedClient, ServerProcess } from "./helpers.ts";

/** Whether a program is on PATH. */
function installed(program: string): boolean {
  try {
    return new Deno.Command("sh", { args: ["-c", `command -v ${program}`], stdout: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const HAVE_II = installed("ii");
if (!HAVE_II) console.log("skipped: no ii (apt-get install ii)");

/** Waits until `file` holds a line matching `pattern` (ii writes its out files as it goes). */
async function waitFor(file: string, pattern: RegExp, timeoutMs = 5000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let text = "";
    try {
      text = await Deno.readTextFile(file);
    } catch {
      // Not made yet.
    }
    const line = text.split("\n").find((l) => pattern.test(l));
    if (line !== undefined) return line;
    if (Date.now() > deadline) throw new Error(`no line matching ${pattern} in ${file}:\n${text}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
    const line = await server.expect(/^irc on /, 10_000);
    const ircPort = line.slice(line.lastIndexOf(":") + 1);
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
      await waitFor(`${base}/#lobby/out`, /<tom> hello ii from telnet/);
      await cli.send("hello ii from chat-client");
      await waitFor(`${base}/#lobby/out`, /<cara> hello ii from chat-client/);

      await say(`${base}/#lobby/in`, "hello all from ii");
      await tom.expect("iris: hello all from ii");
      await cli.expect("<iris> hello all from ii");

      await say(`${base}/in`, "/j tom a private word");
      await tom.expect("[pm from iris] a private word");
      await tom.send("/pm iris a private answer");
      await waitFor(`${base}/tom/out`, /<tom> a private answer/);
      await cli.send("/pm iris from cara privately");
      await waitFor(`${base}/cara/out`, /<cara> from cara privately/);

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
