// chat-client: the command line around the chat client. Parses flags, connects (one
// clear line and exit code 1 when it cannot), picks the terminal screen or plain line
// mode, and exits with the code the session ends with. The chat is in lib/client/.

import { die, hostAndPort, parseFlags, readEnv, UsageError } from "./lib/protocol/cli.ts";
import { runClient } from "./lib/client/app.ts";
import { CONNECT_TIMEOUT_MS } from "./lib/client/limits.ts";
import { ConnectError, connectTcp, readCaFile, startTls } from "./lib/client/net.ts";
import { VERSION } from "./lib/protocol/version.ts";

const HELP = `chat-client ${VERSION}: the terminal client for linechat

usage: chat-client [--host HOST] [--port PORT] [--name NAME] [--tls [--ca FILE]] [--no-color]
                   [--no-reconnect]
       chat-client HOST PORT

options:
  --host HOST   server to connect to (default 127.0.0.1)
  --port PORT   server port, 1 to 65535 (default 8080)
  --name NAME   the name to take at once; without it the client asks
  --password P  the server's password, if it asks for one (or set LINECHAT_PASSWORD);
                without it the client asks when the server does
  --tls         connect over TLS; the certificate must verify
  --ca FILE     trust this CA certificate (PEM) too, for a private certificate
  --no-color    no colours (also when NO_COLOR is set)
  --no-reconnect  exit when the connection is lost (code 1) or the server shuts down
                  (code 0), instead of reconnecting
  --help        show this help
  --version     show the version

On a terminal: Enter sends; Left/Right, Home/End (Ctrl+A/Ctrl+E), Backspace/Delete,
Ctrl+W (word), Ctrl+U (to the start), Up/Down (history), Tab (commands and names);
Ctrl+C or Ctrl+D on an empty line quits. /help lists the chat commands.
When stdin or stdout is not a terminal, lines are read and printed plainly; the end
of stdin disconnects. A lost connection is opened again after 1 s, 2 s, 4 s ... (at
most 30 s), taking back the name and the room; lines typed meanwhile wait for it.`;

async function main(args: string[]): Promise<number> {
  const { values, positionals } = parseFlags(args, {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8080" },
    name: { type: "string" },
    password: { type: "string" },
    tls: { type: "boolean", default: false },
    ca: { type: "string" },
    "no-color": { type: "boolean", default: false },
    "no-reconnect": { type: "boolean", default: false },
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
  const { host, port } = hostAndPort(positionals, values.host, values.port, 1);
  if (values.ca !== undefined && !values.tls) throw new UsageError("--ca goes with --tls");
  const caCerts = values.ca === undefined ? undefined : readCaFile(values.ca);
  const connect = async (): Promise<Deno.Conn> => {
    const tcp = await connectTcp(host, port, CONNECT_TIMEOUT_MS);
    tcp.setNoDelay(true);
    return values.tls ? await startTls(tcp, host, port, caCerts, CONNECT_TIMEOUT_MS) : tcp;
  };
  const conn = await connect();
  const terminal = Deno.stdin.isTerminal() && Deno.stdout.isTerminal() &&
    readEnv("TERM") !== "dumb";
  const color = !values["no-color"] && !Deno.noColor;
  const password = values.password ?? readEnv("LINECHAT_PASSWORD");
  const reconnect = values["no-reconnect"] ? undefined : connect;
  return await runClient(conn, { name: values.name, password, terminal, color, reconnect });
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
