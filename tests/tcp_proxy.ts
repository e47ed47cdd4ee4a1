// A TCP proxy for the cluster tests: a loopback port forwarding to another, which the test can
// cut (every connection through it closed, new ones closed at once) and restore, so one node
// loses Redis while the others keep it.

/** Forwards connections on its own loopback port to `127.0.0.1:target`. */
export class TcpProxy implements AsyncDisposable {
  readonly port: number;
  readonly #target: number;
  readonly #listener: Deno.Listener;
  readonly #open = new Set<Deno.Conn>();
  readonly #tasks = new Set<Promise<void>>();
  #cut = false;
  #accepting: Promise<void>;

  private constructor(target: number) {
    this.#target = target;
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept();
  }

  /** A proxy to `127.0.0.1:target`, accepting at once. */
  static start(target: number): TcpProxy {
    return new TcpProxy(target);
  }

  /** Closes every connection through the proxy; later ones are closed as they come. */
  cut(): void {
    this.#cut = true;
    for (const conn of this.#open) close(conn);
    this.#open.clear();
  }

  /** Forwards new connections again. */
  restore(): void {
    this.#cut = false;
  }

  async #accept(): Promise<void> {
    for await (const client of this.#listener) {
      if (this.#cut) {
        close(client);
        continue;
      }
      const task = this.#link(client);
      this.#tasks.add(task);
      task.finally(() => this.#tasks.delete(task));
    }
  }

  async #link(client: Deno.Conn): Promise<void> {
    let server: Deno.Conn;
    try {
      server = await Deno.connect({ hostname: "127.0.0.1", port: this.#target });
    } catch {
      close(client);
      return;
    }
    if (this.#cut) {
      close(client);
      close(server);
      return;
    }
    this.#open.add(client);
    this.#open.add(server);
    const pump = async (from: Deno.Conn, to: Deno.Conn) => {
      const buf = new Uint8Array(64 * 1024);
      try {
        for (;;) {
          const n = await from.read(buf);
          if (n === null) break;
          let off = 0;
          while (off < n) off += await to.write(buf.subarray(off, n));
        }
      } catch {
        // Cut, or the other side closed.
      }
      for (const c of [from, to]) {
        if (this.#open.delete(c)) close(c);
      }
    };
    await Promise.all([pump(client, server), pump(server, client)]);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.cut();
    this.#listener.close();
    await this.#accepting.catch(() => {});
    await Promise.all([...this.#tasks]);
  }
}

function close(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Closed already.
  }
}
