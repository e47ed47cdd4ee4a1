// Test helpers for the web door: a real WebSocket client (Deno's) whose frames go into a LineQueue,
// so e2e tests wait on expected events as they do over TCP.

import { LineQueue } from "./helpers.ts";

/** A WebSocket client of the web door; each frame received is one line of its queue. */
export class WebClient extends LineQueue implements AsyncDisposable {
  readonly socket: WebSocket;
  /** The close code and reason, once the socket has closed. */
  readonly closed: Promise<{ code: number; reason: string }>;

  private constructor(socket: WebSocket) {
    super();
    this.socket = socket;
    const { promise, resolve } = Promise.withResolvers<{ code: number; reason: string }>();
    this.closed = promise;
    socket.onmessage = (e) => this.push(typeof e.data === "string" ? e.data : "<binary>");
    socket.onerror = (e) => e.preventDefault();
    socket.onclose = (e) => {
      this.end();
      resolve({ code: e.code, reason: e.reason });
    };
  }

  /** Opens a WebSocket to the door on `port` (loopback) and waits until it is open. */
  static async connect(port: number, path = "/ws"): Promise<WebClient> {
    const client = new WebClient(new WebSocket(`ws://127.0.0.1:${port}${path}`));
    await new Promise<void>((resolve, reject) => {
      client.socket.addEventListener("open", () => resolve(), { once: true });
      client.closed.then(({ code, reason }) => reject(new Error(`closed: ${code} ${reason}`)));
    });
    return client;
  }

  /** Sends one text frame. */
  send(text: string): void {
    this.socket.send(text);
  }

  /** Sends a JSON request as one frame. */
  request(req: Record<string, unknown>): void {
    this.socket.send(JSON.stringify(req));
  }

  /** Closes (if still open) and waits for the close. */
  async close(): Promise<void> {
    if (this.socket.readyState < WebSocket.CLOSING) this.socket.close();
    await this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Fetches `path` from the door on `port` and reads the whole body. */
export async function fetchText(
  port: number,
  path: string,
  init?: RequestInit,
): Promise<{ status: number; headers: Headers; body: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
  return { status: res.status, headers: res.headers, body: await res.text() };
}
