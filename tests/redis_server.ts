// A throwaway redis-server for the tests: loopback, a free port, no persistence; stopped when
// disposed. Where redis-server is not installed, HAVE_REDIS is false and the tests that need it
// are ignored, saying "skipped: no redis-server".

import { installed } from "./helpers.ts";

/** Whether redis-server is on PATH. */
export const HAVE_REDIS = installed("redis-server");

/** A redis-server child process on 127.0.0.1 and a port that was free. */
export class RedisServer implements AsyncDisposable {
  readonly port: number;
  readonly url: string;
  readonly #child: Deno.ChildProcess;
  #drained: Promise<void> = Promise.resolve();

  private constructor(port: number, child: Deno.ChildProcess) {
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
    this.#child = child;
  }

  /**
   * Starts redis-server and waits until it accepts connections; `extra` arguments go after
   * the defaults (and win over them).
   */
  static async start(port = freePort(), extra: string[] = []): Promise<RedisServer> {
    const child = new Deno.Command("redis-server", {
      // Many databases: the conformance suite gives each case its own.
      args: [
        ...["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        ...["--databases", "256"],
        ...extra,
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const server = new RedisServer(port, child);
    // Its log says when it is ready; read it until then, then keep draining it.
    const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    const deadline = Date.now() + 10_000;
    while (!/Ready to accept connections/.test(seen)) {
      const { value, done } = await lines.read();
      if (done || Date.now() > deadline) {
        await server[Symbol.asyncDispose]();
        throw new Error(`redis-server did not start:\n${seen}`);
      }
      seen += value;
    }
    server.#drained = (async () => {
      while (!(await lines.read()).done) { /* drain */ }
    })();
    return server;
  }

  /** Stops it (SIGKILL: nothing to save) and waits for it to exit. */
  async stop(): Promise<void> {
    try {
      this.#child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    await this.#child.status;
    await this.#drained;
    await this.#child.stderr.cancel().catch(() => {});
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** A loopback port nothing listens on right now. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}
