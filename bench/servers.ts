// Starts the servers under test, each as its own process on loopback: linechat's
// server.ts with its limits raised for the run (alone, or as a node on a Redis), ngIRCd
// with a generated config and its throttles off, and a throwaway redis-server. Driving
// them is left to load.ts, reading their CPU/RSS to proc.ts.

/** Which server a run is against. */
export type Target = "linechat" | "ngircd";

/** A program the bench starts: a server under test, or the Redis a cluster's nodes share. */
export type Program = Target | "redis";

const HOST = "127.0.0.1";
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const SERVER_TS = new URL("../server.ts", import.meta.url).pathname;

/**
 * Flags the bench wants linechat to run with: flood control raised (still on, so its
 * cost is measured) and no connection caps. Only flags `server.ts --help` lists are used.
 */
const WANTED_FLAGS: [string, string][] = [
  ["--rate", "100000"],
  ["--burst", "100000"],
  ["--max-clients", "0"],
  ["--max-per-ip", "0"],
];

/** A server under test, running. Dispose it (or call stop) to end it. */
export class ServerProcess implements AsyncDisposable {
  readonly #child: Deno.ChildProcess;
  readonly #stderr: Promise<string>;
  #exited: Deno.CommandStatus | undefined;
  readonly #status: Promise<Deno.CommandStatus>;
  readonly #ready: Promise<string>;
  #port: number;

  private constructor(
    readonly target: Program,
    port: number,
    /** How it was started, for the report. */
    readonly settings: string,
    command: string,
    args: string[],
    readyLine: RegExp,
    cwd?: string,
  ) {
    this.#port = port;
    this.#child = new Deno.Command(command, {
      args,
      cwd,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.#status = this.#child.status.then((s) => this.#exited = s);
    this.#stderr = tail(this.#child.stderr);
    this.#ready = readyAndDrain(this.#child.stdout, readyLine);
  }

  /** The port it listens on (on 127.0.0.1). */
  get port(): number {
    return this.#port;
  }

  /** The server's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /** Why the server is not running, or undefined while it runs. */
  async exitReason(): Promise<string | undefined> {
    if (!this.#exited) return undefined;
    const err = (await this.#stderr).trim().split("\n").slice(-3).join(" / ");
    return `${this.target} exited with code ${this.#exited.code}${err ? `: ${err}` : ""}`;
  }

  /**
   * Starts linechat's server.ts on a free loopback port with the bench's flags; with
   * `profileDir`, under V8's CPU profiler (the profile is written there when it stops);
   * with `node`, as that node of a cluster on the Redis at `node.engine`.
   */
  static async linechat(
    profileDir?: string,
    node?: { engine: string; name: string },
  ): Promise<ServerProcess> {
    const flags = await supportedFlags();
    const prof = profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [];
    const cluster = node ? ["--engine", node.engine, "--node", node.name] : [];
    const args = [
      "run",
      "--allow-net",
      // node-redis reads these two, nothing else.
      ...(node ? ["--allow-env=REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS"] : []),
      ...prof,
      SERVER_TS,
      ...["--host", HOST, "--port", "0", ...flags, ...cluster],
    ];
    const server = new ServerProcess(
      "linechat",
      0,
      `server.ts ${[...flags, ...cluster].join(" ")}`.trim(),
      Deno.execPath(),
      args,
      /^listening on /,
    );
    const line = await server.#waitReady();
    server.#port = Number(line.slice(line.lastIndexOf(":") + 1));
    return server;
  }

  /** Starts ngIRCd from `binary` on a free loopback port, its config in `dir`. */
  static async ngircd(binary: string, dir: string): Promise<ServerProcess> {
    const port = freePort();
    const conf = `${dir}/ngircd.conf`;
    await Deno.mkdir(`${dir}/conf.d`, { recursive: true });
    await Deno.writeTextFile(conf, ngircdConfig(port, `${dir}/conf.d`));
    const server = new ServerProcess(
      "ngircd",
      port,
      "ngircd -n (throttles off: MaxConnectionsIP 0, MaxJoins 0, MaxPenaltyTime 0; " +
        "DNS, Ident, PAM off)",
      binary,
      ["-n", "-f", conf],
      /Now listening on/,
      dir,
    );
    await server.#waitReady();
    return server;
  }

  /**
   * Starts redis-server from `binary` on a free loopback port, keeping nothing on disk
   * (no snapshots, no append-only file).
   */
  static async redis(binary: string): Promise<ServerProcess> {
    const port = freePort();
    const args = ["--port", String(port), "--bind", HOST, "--save", "", "--appendonly", "no"];
    const server = new ServerProcess(
      "redis",
      port,
      "redis-server --save '' --appendonly no",
      binary,
      args,
      /Ready to accept connections/,
    );
    await server.#waitReady();
    return server;
  }

  async #waitReady(): Promise<string> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.target} did not start within ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
    });
    const died = this.#status.then(async () => {
      throw new Error(await this.exitReason());
    });
    try {
      return await Promise.race([this.#ready, timeout, died]);
    } catch (err) {
      await this.stop();
      const why = await this.exitReason();
      const message = err instanceof Error ? err.message : String(err);
      throw new Error(why && !message.includes(why) ? `${message}; ${why}` : message);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Asks the server to stop (SIGTERM), then kills it if it has not exited in time. */
  async stop(): Promise<void> {
    if (!this.#exited) {
      try {
        this.#child.kill("SIGTERM");
      } catch {
        // Already gone.
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<"late">((r) => timer = setTimeout(() => r("late"), STOP_TIMEOUT_MS));
      if (await Promise.race([this.#status, late]) === "late") {
        try {
          this.#child.kill("SIGKILL");
        } catch {
          // Exited meanwhile.
        }
      }
      clearTimeout(timer);
    }
    await this.#status;
    await this.#ready.catch(() => {});
    await this.#stderr;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

let flagsCache: Promise<string[]> | undefined;

/** The bench's wanted flags that this server.ts supports (per its --help). */
function supportedFlags(): Promise<string[]> {
  return flagsCache ??= (async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", SERVER_TS, "--help"],
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    const help = new TextDecoder().decode(out.stdout);
    return WANTED_FLAGS.filter(([flag]) => help.includes(`${flag} `)).flat();
  })();
}

/**
 * An ngIRCd config for the bench: loopback only, no MOTD file, and every throttle that
 * would limit a single-host load off (connections per IP, joins, penalty time, lookups).
 */
export function ngircdConfig(port: number, includeDir: string): string {
  return `# Generated by linechat's bench/servers.ts for one run; safe to delete.
[Global]
\tName = bench.linechat.invalid
\tInfo = linechat benchmark
\tAdminInfo1 = linechat bench
\tAdminInfo2 = loopback
\tAdminEMail = bench@localhost
\tListen = ${HOST}
\tPorts = ${port}
\tMotdPhrase = bench
[Limits]
\tMaxConnections = 0
\tMaxConnectionsIP = 0
\tMaxJoins = 0
\tMaxNickLength = 30
\tMaxPenaltyTime = 0
\tPingTimeout = 600
\tPongTimeout = 600
[Options]
\tIncludeDir = ${includeDir}
\tDNS = no
\tIdent = no
\tPAM = no
`;
}

/** Where the program `name` (ngircd, redis-server) is, or undefined when it is not installed. */
export function findProgram(name: string): string | undefined {
  let path = "";
  try {
    path = Deno.env.get("PATH") ?? "";
  } catch {
    // No --allow-env: look in the usual places only.
  }
  const dirs = [...path.split(":").filter(Boolean), "/usr/sbin", "/usr/local/sbin", "/sbin"];
  for (const dir of dirs) {
    try {
      const file = `${dir}/${name}`;
      if (Deno.statSync(file).isFile) return file;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

/** The first line of `ngircd --version`. */
export async function ngircdVersion(binary: string): Promise<string> {
  const out = await new Deno.Command(binary, { args: ["--version"], stdin: "null" }).output();
  return new TextDecoder().decode(out.stdout).split("\n")[0].trim();
}

/** The git revision of the server under test (`-dirty` with local changes), if known. */
export async function linechatRevision(): Promise<string> {
  try {
    const out = await new Deno.Command("git", {
      args: ["describe", "--always", "--dirty"],
      cwd: new URL("..", import.meta.url).pathname,
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).output();
    return new TextDecoder().decode(out.stdout).trim() || "unknown";
  } catch {
    return "unknown";
  }
}

/** A loopback port nobody listens on right now. */
function freePort(): number {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Reads `stream` until a line matches `ready` (resolving with that line), then keeps
 * reading and discarding so the server never blocks on a full pipe.
 */
function readyAndDrain(stream: ReadableStream<Uint8Array>, ready: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    (async () => {
      const decoder = new TextDecoder();
      let text = "";
      let found = false;
      for await (const chunk of stream) {
        if (found) continue;
        text += decoder.decode(chunk, { stream: true });
        const lines = text.split("\n");
        text = lines.pop()!;
        const line = lines.find((l) => ready.test(l));
        if (line !== undefined) {
          found = true;
          text = "";
          resolve(line.trim());
        } else if (text.length > 1 << 16) {
          text = "";
        }
      }
      if (!found) reject(new Error(`output ended without a line matching ${ready}`));
    })().catch(reject);
  });
}

/** The last few KiB of a stream, as text, once it ends. */
async function tail(stream: ReadableStream<Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of stream) {
    text = (text + decoder.decode(chunk, { stream: true })).slice(-4096);
  }
  return text;
}
