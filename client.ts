// chat-client: the command line around the chat client. Parses flags, connects (one
// clear line and exit code 1 when it cannot), picks the terminal screen or plain line
// mode, and exits with the code the session ends with. The chat is in lib/client_*.

import { die, hostAndPort, parseFlags, readEnv, UsageError } from "./lib/cli.ts";
import { runClient } from "./lib/client_app.ts";
import { CONNECT_TIMEOUT_MS } from "./lib/client_limits.ts";
import { ConnectError, connectTcp } from "./lib/client_net.ts";
import { VERSION } from "./lib/version.ts";

const HELP = `chat-client ${VERSION}: the terminal client for linechat

usage: chat-client [--host HOST] [--port PORT] [--name NAME] [--no-color]
       chat-client HOST PORT

options:
  --host HOST   server to connect to (default 127.0.0.1)
  --port PORT   server port (default 8080)
  --name NAME   the name to take at once; without it the client asks
  --no-color    no colours (also when NO_COLOR is set)
  --help        show this help
  --version     show the version

On a terminal: Enter sends; Left/Right, Home/End (Ctrl+A/Ctrl+E), Backspace/Delete,
Ctrl+W (word), Ctrl+U (to the start), Up/Down (history), Tab (commands and names);
Ctrl+C or Ctrl+D on an empty line quits. /help lists the chat commands.
When stdin or stdout is not a terminal, lines are read and printed plainly; the end
of stdin disconnects.`;

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8080" },
    name: { type: "string" },
    "no-color": { type: "boolean", default: false },
    help: { type: "boolean", default: false },
    version: { type: "boolean", default: false },
  });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (values.version) {
    console.log(`chat-client ${VERSION}`);
    return 0;
  }
  const { host, port } = hostAndPort(positionals, values.host, values.port);
  const conn = await connectTcp(host, port, CONNECT_TIMEOUT_MS);
  conn.setNoDelay(true);
  const terminal = Deno.stdin.isTerminal() && Deno.stdout.isTerminal() &&
    readEnv("TERM") !== "dumb";
  const color = !values["no-color"] && !Deno.noColor;
  return await runClient(conn, { name: values.name, terminal, color });
}

if (import.meta.main) {
  try {
    Deno.exit(await main(Deno.args));
  } catch (err) {
    if (err instanceof UsageError) die("chat-client", `${err.message} (try --help)`);
    if (err instanceof ConnectError) die("chat-client", err.message);
    die("chat-client", err instanceof Error ? `${err.name}: ${err.message}` : String(err));
  }
}
