// chat-server: the command line around ChatServer. Parses flags, logs to stdout (lib/server/log.ts),
// reads the operator console from stdin and turns SIGINT/SIGTERM into a clean shutdown.

import {
  type AmountRange,
  die,
  hostAndPort,
  parseAmount,
  parseFlags,
  parsePort,
  readEnv,
  readStdin,
  twoStageStop,
  UsageError,
} from "./lib/protocol/cli.ts";
import { canonicalIp } from "./lib/protocol/address.ts";
import { LineFramer } from "./lib/protocol/framing.ts";
import { describe } from "./lib/server/hub.ts";
import { DEFAULT_LIMITS, type Limits } from "./lib/server/limits.ts";
import { Log } from "./lib/server/log.ts";
import { sanitize } from "./lib/protocol/sanitize.ts";
import { ChatServer } from "./lib/server/server.ts";
import { DataFileError } from "./lib/server/store.ts";
import {
  DEFAULT_NODE_TIMEOUT_MS,
  type Engine,
  EngineSpecError,
  EngineUnreachableError,
  NODE_NAME,
  parseEngine,
} from "./lib/server/engine/engine.ts";
import { openEngine } from "./lib/server/engine/open.ts";
import { ClusterStore } from "./lib/server/hub/cluster_store.ts";
import { VERSION } from "./lib/protocol/version.ts";
import { WebPortError } from "./lib/server/web/door.ts";
import { normaliseOrigin } from "./lib/server/web/origin.ts";

/** Flags that set a limit: the flag, its value's name, the limit, its unit and help. */
const LIMIT_FLAGS: ({
  flag: string;
  value: string;
  key: keyof Limits;
  /** Multiplier from the flag's unit to the limit's (seconds to ms). */
  scale: number;
  help: string;
} & AmountRange)[] = [
  {
    flag: "max-line",
    value: "BYTES",
    key: "maxLineBytes",
    scale: 1,
    zeroOff: false,
    min: 64,
    max: 1_048_576,
    integer: true,
    help: "longest input line; longer ones are discarded",
  },
  {
    flag: "rate",
    value: "N",
    key: "ratePerSecond",
    scale: 1,
    zeroOff: true,
    min: 1,
    max: 1_000_000,
    integer: true,
    help: "lines/s per client after a burst; 0: no flood control",
  },
  {
    flag: "burst",
    value: "N",
    key: "burst",
    scale: 1,
    zeroOff: false,
    min: 1,
    max: 1_000_000,
    integer: true,
    help: "lines a client may send at once (a paste)",
  },
  {
    flag: "flood-disconnect",
    value: "N",
    key: "floodDisconnectLines",
    scale: 1,
    zeroOff: false,
    min: 1,
    max: 1_000_000,
    integer: true,
    help: "dropped lines before a flooder is disconnected",
  },
  {
    flag: "max-outbox",
    value: "BYTES",
    key: "maxOutboxBytes",
    scale: 1,
    zeroOff: false,
    min: 1024,
    max: 1_073_741_824,
    integer: true,
    help: "output queued for a non-reading client before it goes",
  },
  {
    flag: "name-timeout",
    value: "SECONDS",
    key: "nameTimeoutMs",
    scale: 1000,
    zeroOff: true,
    min: 0.1,
    max: 86_400,
    integer: false,
    help: "time to choose a name; 0: no limit",
  },
  {
    flag: "tls-timeout",
    value: "SECONDS",
    key: "tlsHandshakeMs",
    scale: 1000,
    zeroOff: false,
    min: 0.1,
    max: 600,
    integer: false,
    help: "time for a TLS client to finish its handshake",
  },
  {
    flag: "web-timeout",
    value: "SECONDS",
    key: "webRequestMs",
    scale: 1000,
    zeroOff: false,
    min: 0.1,
    max: 600,
    integer: false,
    help: "time for a web client to send its request (TLS and headers)",
  },
  {
    flag: "max-rooms",
    value: "N",
    key: "maxRooms",
    scale: 1,
    zeroOff: false,
    min: 1,
    max: 1_000_000,
    integer: true,
    help: "rooms that may exist at once (#lobby included)",
  },
  {
    flag: "max-rooms-per-user",
    value: "N",
    key: "maxRoomsPerUser",
    scale: 1,
    zeroOff: false,
    min: 1,
    max: 1000,
    integer: true,
    help: "rooms one user may be in at once",
  },
  {
    flag: "max-ignore",
    value: "N",
    key: "maxIgnore",
    scale: 1,
    zeroOff: false,
    min: 1,
    max: 100_000,
    integer: true,
    help: "names one user may /ignore",
  },
  {
    flag: "idle-timeout",
    value: "SECONDS",
    key: "idleTimeoutMs",
    scale: 1000,
    zeroOff: true,
    min: 0.1,
    max: 604_800,
    integer: false,
    help: "disconnect clients silent this long; 0: never",
  },
  {
    flag: "dead-peer-timeout",
    value: "SECONDS",
    key: "deadPeerMs",
    scale: 1000,
    zeroOff: true,
    min: 0.1,
    max: 604_800,
    integer: false,
    help: "close a telnet client silent this long (a probe half way); 0: never",
  },
  {
    flag: "max-clients",
    value: "N",
    key: "maxClients",
    scale: 1,
    zeroOff: true,
    min: 1,
    max: 1_000_000,
    integer: true,
    help: "connections in total; 0: no cap",
  },
  {
    flag: "max-per-ip",
    value: "N",
    key: "maxPerIp",
    scale: 1,
    zeroOff: true,
    min: 1,
    max: 1_000_000,
    integer: true,
    help: "connections from one IP address; 0: no cap",
  },
  {
    flag: "announce-up-to",
    value: "N",
    key: "announceUpTo",
    scale: 1,
    zeroOff: true,
    min: 1,
    max: 1_000_000,
    integer: true,
    help: "rooms of up to N members announce joins and leaves; 0: all",
  },
  {
    flag: "history",
    value: "N",
    key: "historyLines",
    scale: 1,
    zeroOff: true,
    min: 1,
    max: 10_000,
    integer: true,
    help: "messages per room replayed to newcomers; 0: none",
  },
  {
    flag: "retain-days",
    value: "DAYS",
    key: "retainMs",
    scale: 86_400_000,
    zeroOff: true,
    min: 1,
    max: 36_500,
    integer: true,
    help: "delete stored messages older than this; 0: never",
  },
  {
    flag: "retain-messages",
    value: "N",
    key: "retainMessages",
    scale: 1,
    zeroOff: true,
    min: 1,
    max: 1_000_000_000,
    integer: true,
    help: "stored messages kept, the oldest deleted first; 0: no cap",
  },
];

function limitHelp(): string {
  return LIMIT_FLAGS.map(({ flag, value, key, scale, help }) => {
    const left = `  --${flag} ${value}`.padEnd(31);
    return `${left}${help} (default ${DEFAULT_LIMITS[key] / scale})`;
  }).join("\n");
}

const HELP = `chat-server ${VERSION}: a multi-user chat server over TCP (telnet, nc or chat-client)

usage: chat-server [--host HOST] [--port PORT] [options]
       chat-server HOST PORT

options:
  --host HOST                  address to listen on (default 0.0.0.0)
  --port PORT                  port to listen on; 0 picks a free one (default 8080)
  --auto-name                  give each newcomer a free guest-N name at once
  --data FILE                  keep history and topics in this SQLite file (default: memory)
  --motd FILE                  message of the day, shown on joining and by /motd
  --password PASSWORD          clients must give it before choosing a name
                               (or set LINECHAT_PASSWORD, which stays out of ps)
  --op-password PASSWORD       /op PASSWORD makes a user an operator
                               (or set LINECHAT_OP_PASSWORD)
  --tls-cert FILE --tls-key FILE
                               serve TLS with this certificate and key (PEM)
  --tls-port PORT              serve TLS on this port, plain TCP staying on --port
  --web-port PORT              serve the web client (a page and its WebSocket) on this port;
                               https and wss with --tls-cert/--tls-key; 0 picks a free one
  --web-origin ORIGIN          also let pages from ORIGIN (https://host[:port]) connect to
                               the web door; may be repeated (default: only its own page)
  --irc-port PORT              serve IRC on this port too; 0 picks a free one
  --irc-tls-port PORT          serve IRC over TLS on this port (needs --tls-cert/--tls-key)
  --irc-name NAME              the server name IRC clients see (default: the host name)
  --proxy-from ADDRESS[,ADDRESS]
                               load balancers (addresses or CIDR ranges) whose connections
                               start with a PROXY protocol v1 line naming the client
                               (HAProxy send-proxy, nginx proxy_protocol on); may be repeated
  --log-private on|off         log the text of private and group messages (default on);
                               off logs only who wrote to whom
  --engine memory|redis://HOST:PORT[/DB]
                               what several nodes share (default memory: this node alone);
                               redis://[:PASSWORD@]HOST:PORT[/DB]: one chat with every
                               node on that Redis (or the password in
                               LINECHAT_REDIS_PASSWORD, which stays out of ps)
  --node NAME                  this node's name in logs (default: host name and process id)
  --node-timeout SECONDS       a node silent this long loses its names (default 10)
${limitHelp()}
  --help                       show this help
  --version                    show the version

console: lines typed here go to everyone; /users, /kick NAME [REASON];
/quit or exit stops the server. Ctrl+C stops it cleanly; a second Ctrl+C at once.`;

/** The TLS settings from the flags: both files or neither; --tls-port needs them. */
function readTls(
  certFile: string | undefined,
  keyFile: string | undefined,
  tlsPort: string | undefined,
): { cert: string; key: string; port?: number } | undefined {
  if (certFile === undefined && keyFile === undefined) {
    if (tlsPort !== undefined) throw new UsageError("--tls-port needs --tls-cert and --tls-key");
    return undefined;
  }
  if (certFile === undefined || keyFile === undefined) {
    throw new UsageError("--tls-cert and --tls-key go together");
  }
  const read = (flag: string, file: string) => {
    try {
      return Deno.readTextFileSync(file);
    } catch (err) {
      die("chat-server", `cannot read --${flag} ${file}: ${describe(err)}`);
    }
  };
  return {
    cert: read("tls-cert", certFile),
    key: read("tls-key", keyFile),
    port: tlsPort === undefined ? undefined : parsePort(tlsPort),
  };
}

/** The IRC door's settings from the flags; undefined when no IRC port is asked for. */
function readIrc(
  port: string | undefined,
  tlsPort: string | undefined,
  name: string | undefined,
  tls: { cert: string } | undefined,
): { name: string; port?: number; tlsPort?: number } | undefined {
  if (tlsPort !== undefined && !tls) {
    throw new UsageError("--irc-tls-port needs --tls-cert and --tls-key");
  }
  if (port === undefined && tlsPort === undefined) {
    if (name !== undefined) throw new UsageError("--irc-name needs --irc-port or --irc-tls-port");
    return undefined;
  }
  if (name !== undefined && !/^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(name)) {
    throw new UsageError(`invalid --irc-name "${name}": letters, digits, . and - only`);
  }
  return {
    name: name ?? hostName(),
    port: port === undefined ? undefined : parsePort(port),
    tlsPort: tlsPort === undefined ? undefined : parsePort(tlsPort),
  };
}

/**
 * Opens the engine from `--engine` and `--node`: the memory engine, or Redis after it answers
 * (else one line and exit 1). Redis keeps what lasts, so `--data` is refused with it.
 */
async function readEngine(
  text: string,
  node: string | undefined,
  data: string | undefined,
  nodeTimeoutMs: number,
  historyLines: number,
): Promise<Engine> {
  let spec;
  try {
    spec = parseEngine(text, readEnv("LINECHAT_REDIS_PASSWORD"));
  } catch (err) {
    if (err instanceof EngineSpecError) throw new UsageError(`invalid --engine: ${err.message}`);
    throw err;
  }
  if (node !== undefined && !NODE_NAME.test(node)) {
    throw new UsageError(`invalid --node "${node}": 1-64 letters, digits, ., _ or -`);
  }
  if (spec.kind === "redis" && data !== undefined) {
    throw new UsageError("--data cannot be used with --engine redis: Redis keeps what lasts");
  }
  const name = node ?? `${hostName()}-${Deno.pid}`;
  try {
    const engine = await openEngine(spec, {
      node: name,
      nodeTimeoutMs,
      historyLines,
    }, log);
    if (spec.kind === "redis") {
      log(`engine ${spec.shown} as node ${name}: connected`);
      log(
        "engine: names, rooms, messages, history, topics, the motd, bans, mutes and owned " +
          "names are shared with the other nodes",
      );
    }
    return engine;
  } catch (err) {
    die("chat-server", err instanceof EngineUnreachableError ? err.message : describe(err));
  }
}

/**
 * With Redis, the store over it (hub/cluster_store.ts): bans, mutes and owned names loaded
 * before the node serves anyone (else one line and exit 1). None for the memory engine.
 */
async function sharedStore(
  engine: Engine,
  limits: Partial<Limits>,
): Promise<ClusterStore | undefined> {
  if (engine.kind === "memory") return undefined;
  const all = { ...DEFAULT_LIMITS, ...limits };
  try {
    return await ClusterStore.open(engine, all.historyLines, all, log);
  } catch (err) {
    die("chat-server", `cannot read what the cluster keeps: ${describe(err)}`);
  }
}

/** This machine's host name when the program may read it (--allow-sys), else `linechat`. */
function hostName(): string {
  const allowed = Deno.permissions.querySync({ name: "sys", kind: "hostname" }).state;
  const name = allowed === "granted" ? Deno.hostname() : "";
  return /^[A-Za-z0-9][A-Za-z0-9.-]*$/.test(name) ? name : "linechat";
}

/** The log on stdout: bounded and asynchronous, so a stalled reader never stops the chat. */
const logger = new Log(Deno.stdout);

/** Logs one line with an ISO timestamp. */
function log(line: string): void {
  logger.log(line);
}

/** How long exiting waits for the log to be written: a stalled stdout must not hold it up. */
const EXIT_FLUSH_MS = 500;

/** Exits after writing the log lines still waiting (for at most {@link EXIT_FLUSH_MS}). */
async function exit(code: number): Promise<void> {
  await logger.flush(EXIT_FLUSH_MS);
  Deno.exit(code);
}

/** The balancers of --proxy-from (repeated, or separated by commas), each checked. */
function readProxyFrom(values: string[] | undefined): string[] | undefined {
  const list = values?.flatMap((v) => v.split(",")).map((v) => v.trim());
  for (const text of list ?? []) {
    try {
      canonicalIp(text);
    } catch (err) {
      throw new UsageError(`invalid --proxy-from "${text}": ${(err as Error).message}`);
    }
  }
  return list;
}

/** The web door's settings from the flags; --web-origin needs --web-port. */
function readWeb(
  port: string | undefined,
  origins: string[] | undefined,
): { port: number; origins: string[] } | undefined {
  if (port === undefined) {
    if (origins !== undefined) throw new UsageError("--web-origin needs --web-port");
    return undefined;
  }
  try {
    return { port: parsePort(port), origins: (origins ?? []).map(normaliseOrigin) };
  } catch (err) {
    if (err instanceof TypeError) throw new UsageError(`invalid --web-origin: ${err.message}`);
    throw err;
  }
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
  // Until stdin ends or cannot be read; the server keeps running without a console then.
  for (let n = await readStdin(buf); n !== null; n = await readStdin(buf)) {
    framer.push(buf.subarray(0, n));
  }
}

async function main(args: string[]): Promise<void> {
  const { values, positionals } = parseFlags(args, {
    host: { type: "string", default: "0.0.0.0" },
    port: { type: "string", default: "8080" },
    "auto-name": { type: "boolean", default: false },
    data: { type: "string" },
    motd: { type: "string" },
    password: { type: "string" },
    "op-password": { type: "string" },
    "tls-cert": { type: "string" },
    "tls-key": { type: "string" },
    "tls-port": { type: "string" },
    "web-port": { type: "string" },
    "web-origin": { type: "string", multiple: true },
    "irc-port": { type: "string" },
    "irc-tls-port": { type: "string" },
    "irc-name": { type: "string" },
    "log-private": { type: "string", default: "on" },
    "proxy-from": { type: "string", multiple: true },
    engine: { type: "string", default: "memory" },
    node: { type: "string" },
    "node-timeout": { type: "string" },
    help: { type: "boolean", default: false },
    version: { type: "boolean", default: false },
    ...Object.fromEntries(LIMIT_FLAGS.map(({ flag }) => [flag, { type: "string" as const }])),
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
  const limits: Partial<Limits> = {};
  for (const { flag, key, scale, ...range } of LIMIT_FLAGS) {
    const text = (values as Record<string, unknown>)[flag];
    if (typeof text === "string") limits[key] = parseAmount(flag, text, range) * scale;
  }

  let motd: string[] | undefined;
  if (values.motd !== undefined) {
    try {
      motd = Deno.readTextFileSync(values.motd).split(/\r?\n/).map(sanitize);
      while (motd.length > 0 && motd[motd.length - 1] === "") motd.pop();
    } catch (err) {
      die("chat-server", `cannot read --motd ${values.motd}: ${describe(err)}`);
    }
  }

  const password = values.password ?? readEnv("LINECHAT_PASSWORD");
  const opPassword = values["op-password"] ?? readEnv("LINECHAT_OP_PASSWORD");
  for (const [flag, value] of [["password", password], ["op-password", opPassword]]) {
    if (value === "") throw new UsageError(`--${flag} cannot be empty`);
  }
  const tls = readTls(values["tls-cert"], values["tls-key"], values["tls-port"]);
  const web = readWeb(values["web-port"], values["web-origin"]);
  const irc = readIrc(values["irc-port"], values["irc-tls-port"], values["irc-name"], tls);
  const proxyFrom = readProxyFrom(values["proxy-from"]);
  const logPrivate = values["log-private"];
  if (logPrivate !== "on" && logPrivate !== "off") {
    throw new UsageError(`invalid --log-private "${logPrivate}": use on or off`);
  }
  const nodeTimeoutMs = values["node-timeout"] === undefined
    ? DEFAULT_NODE_TIMEOUT_MS
    : parseAmount("node-timeout", values["node-timeout"], {
      zeroOff: false,
      min: 1,
      max: 3600,
      integer: false,
    }) * 1000;
  // Redis keeps at least the default's worth of each room, more when --history asks for more.
  const keep = Math.max(limits.historyLines ?? 0, DEFAULT_LIMITS.historyLines);
  const engine = await readEngine(values.engine, values.node, values.data, nodeTimeoutMs, keep);
  const store = await sharedStore(engine, limits);

  let server: ChatServer;
  try {
    server = ChatServer.listen({
      hostname: host,
      port,
      autoName: values["auto-name"],
      limits,
      log,
      dataFile: values.data,
      store,
      engine,
      nodeTimeoutMs,
      motd,
      password,
      opPassword,
      hidePrivateText: logPrivate === "off",
      tls,
      web,
      irc,
      proxyFrom,
    });
  } catch (err) {
    if (err instanceof DataFileError) die("chat-server", `--data ${values.data} ${err.reason}`);
    if (err instanceof WebPortError) die("chat-server", `--web-port: ${err.message}`);
    if (err instanceof Deno.errors.AddrInUse) die("chat-server", `port ${port} is already in use`);
    if (err instanceof Deno.errors.PermissionDenied) {
      die("chat-server", `not allowed to listen on ${host}:${port}`);
    }
    if (tls && /certificate|private key|pem/i.test(String(err))) {
      die("chat-server", `cannot use --tls-cert/--tls-key: ${describe(err)}`);
    }
    die("chat-server", `cannot listen on ${host}:${port}: ${describe(err)}`);
  }
  const shown = server.addr.hostname.includes(":")
    ? `[${server.addr.hostname}]`
    : server.addr.hostname;
  console.log(`listening on ${shown}:${server.addr.port}`);
  if (server.tlsAddr) console.log(`tls on ${shown}:${server.tlsAddr.port}`);
  if (server.webAddr) console.log(`web on ${shown}:${server.webAddr.port}`);
  if (server.ircAddr) console.log(`irc on ${shown}:${server.ircAddr.port}`);
  if (server.ircTlsAddr) console.log(`ircs on ${shown}:${server.ircTlsAddr.port}`);

  const stop = twoStageStop(() => server.shutdown(), exit, log);
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    try {
      Deno.addSignalListener(signal, stop);
    } catch {
      // SIGTERM is not available on Windows.
    }
  }
  keepRunning();
  readConsole(server, stop);
}

/**
 * The last line of defence: an error nothing caught (a bug, or a store error on a path that
 * forgot to catch it) is logged and the server keeps serving everyone else.
 */
function keepRunning(): void {
  globalThis.addEventListener("unhandledrejection", (e) => {
    e.preventDefault();
    log(`internal error (kept running): ${describe(e.reason)}`);
  });
  globalThis.addEventListener("error", (e) => {
    e.preventDefault();
    log(`internal error (kept running): ${describe(e.error)}`);
  });
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (err) {
    if (err instanceof UsageError) die("chat-server", `${err.message} (try --help)`);
    die("chat-server", describe(err));
  }
}
