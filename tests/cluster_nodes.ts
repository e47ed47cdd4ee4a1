// Cluster nodes for the tests: chat-server with --engine and --node as a subprocess, and its
// port once it listens.

import { portOf, ServerProcess } from "./helpers.ts";

/** A node of a cluster on the Redis at `url`, as a subprocess; its port once it listens. */
export async function startNode(
  url: string,
  node: string,
  ...args: string[]
): Promise<{ server: ServerProcess; port: number }> {
  const server = ServerProcess.onLoopback("--engine", url, "--node", node, ...args);
  const lines = await server.collectUntil(/are shared with the other nodes$/, 10_000);
  const listening = lines.find((l) => l.startsWith("listening on "));
  const port = listening === undefined ? await server.port() : portOf(listening);
  return { server, port };
}

/** How many of `lines` include `text`. */
export function times(lines: string[], text: string): number {
  return lines.filter((l) => l.includes(text)).length;
}
