// chat-server: the command line around ChatServer. Parses flags, logs with timestamps,
// reads the operator console from stdin and turns SIGINT/SIGTERM into a clean shutdown.

import {
  die,
  hostAndPort,
  parseFlags,
  parsePositive,
  twoStageStop,
  UsageError,
} from "./lib/cli.ts";
import { LineFramer } from "./lib/framing.ts";
import { describe } from "./lib/hub.ts";
import { DEFAULT_LIMITS } from "./lib/limits.ts";
import { ChatServer } from "./lib/server.ts";
import { VERSION } from "./lib/version.ts";

const HELP = `chat-server ${VERSION}: a multi-user chat server over TCP (telnet, nc or chat-client)

usage: chat-server [--host HOST] [--port PORT] [options]
       chat-server HOST PORT

options:
  --host HOST        address to listen on (default 0.0.0.0)
  --port PORT        port to listen on; 0 picks a free one (default 8080)
  --auto-name        give each newcomer a free guest-N name at once
  --max-line BYTES   longest input line; longer lines are discarded (default ${DEFAULT_LIMITS.maxLineBytes})
  --help             show this help
  --version          show the version

console: lines typed here go to everyone; /users, /kick NAME [REASON];
/quit or exit stops the server. Ctrl+C stops it cleanly; a second Ctrl+C at once.`;

function log(line: string): void {
  console.log(`${new Date().toISOString()} ${line}`);
}

/** Reads operator lines from stdin (a terminal or a pipe) until it ends. */
async function readConsole(server: ChatServer, stop: () => void): Promise<void> {
  const framer = new LineFramer(server.limits.maxLineBytes, {
    line: (text) => {
      if (server.console(text) === "stop") stop();
    },
    overlong: () => log("console: line too long; discarded"),
  });
  const buf = new Uint8Array(4096);
  try {
    for (;;) {
      const n = await Deno.stdin.read(buf);
      if (n === null) return;
      framer.push(buf.subarray(0, n));
    }
  } catch {
    // stdin closed or unreadable: the server keeps running without a console.
  }
}

function main(args: string[]): void {
  const { values, positionals } = parseFlags(args, {
    host: { type: "string", default: "0.0.0.0" },
    port: { type: "string", default: "8080" },
    "auto-name": { type: "boolean", default: false },
    "max-line": { type: "string", default: String(DEFAULT_LIMITS.maxLineBytes) },
    help: { type: "boolean", default: false },
    version: { type: "boolean", default: false },
  });
  if (values.help) {
    console.log(HELP);
    return;
  }
  if (values.version) {
    console.log(`chat-server ${VERSION}`);
    return;
  }
  const { host, port } = hostAndPort(positionals, values.host, values.port);
  const maxLineBytes = parsePositive("max-line", values["max-line"]);

  let server: ChatServer;
  try {
    server = ChatServer.listen({
      hostname: host,
      port,
      autoName: values["auto-name"],
      limits: { maxLineBytes },
      log,
    });
  } catch (err) {
    if (err instanceof Deno.errors.AddrInUse) die("chat-server", `port ${port} is already in use`);
    if (err instanceof Deno.errors.PermissionDenied) {
      die("chat-server", `not allowed to listen on ${host}:${port}`);
    }
    die("chat-server", `cannot listen on ${host}:${port}: ${describe(err)}`);
  }
  const shown = server.addr.hostname.includes(":")
    ? `[${server.addr.hostname}]`
    : server.addr.hostname;
  console.log(`listening on ${shown}:${server.addr.port}`);

  const stop = twoStageStop(() => server.shutdown(), Deno.exit, log);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch {
      // SIGTERM is not available on Windows.
    }
  }
  readConsole(server, stop);
}

if (import.meta.main) {
  try {
    main(Deno.args);
  } catch (err) {
    if (err instanceof UsageError) die("chat-server", `${err.message} (try --help)`);
    die("chat-server", describe(err));
  }
}
