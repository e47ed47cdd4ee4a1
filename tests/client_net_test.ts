// Tests for lib/client/net.ts: connection failures become one line naming the address
// and the reason; a connection that does not come within the timeout is given up.

import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { ConnectError, connectFailure, connectTcp } from "../lib/client/net.ts";

Deno.test("connectTcp() reports a refused connection", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await rejects(connectTcp("127.0.0.1", port, 5000), (err: unknown) => {
    assert(err instanceof ConnectError);
    assertEquals(
      err.message,
      `cannot connect to 127.0.0.1:${port}: connection refused (is the server running on that port?)`,
    );
    return true;
  });
});

Deno.test("connectTcp() gives up after the timeout", async () => {
  let signal: AbortSignal | undefined;
  const never = (options: Deno.ConnectOptions) => {
    signal = options.signal;
    return new Promise<Deno.TcpConn>(() => {});
  };
  await rejects(connectTcp("192.0.2.1", 8080, 50, never), (err: unknown) => {
    assert(err instanceof ConnectError);
    assertEquals(err.message, "cannot connect to 192.0.2.1:8080: no answer within 0.05 s");
    return true;
  });
  assert(signal?.aborted, "the attempt is aborted");
});

Deno.test("connectTcp() connects to a listening server", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const accepted = listener.accept();
  using conn = await connectTcp("127.0.0.1", (listener.addr as Deno.NetAddr).port, 5000);
  using _server = await accepted;
  assertEquals((conn.remoteAddr as Deno.NetAddr).port, (listener.addr as Deno.NetAddr).port);
});

Deno.test("connectFailure() says why in a few words", async (t) => {
  const cases: [string, unknown, string][] = [
    [
      "refused",
      new Deno.errors.ConnectionRefused("x"),
      "connection refused (is the server running on that port?)",
    ],
    ["unreachable", new Deno.errors.NetworkUnreachable("x"), "network unreachable"],
    ["timed out", new Deno.errors.TimedOut("x"), "timed out"],
    [
      "no permission",
      new Deno.errors.NotCapable("x"),
      "not allowed to use the network (run with --allow-net)",
    ],
    [
      "unknown host",
      new Error("failed to lookup address information: Name or service not known"),
      "unknown host nowhere",
    ],
    [
      "anything else, without the os error number",
      new Error("Host is down (os error 112)"),
      "Host is down",
    ],
  ];
  for (const [name, err, want] of cases) {
    await t.step(name, () => assertEquals(connectFailure(err, "nowhere"), want));
  }
});
