// What one room message costs through node-redis, without the chat around it: the Redis
// engine's publish (one EVAL: XADD to the room's stream, then PUBLISH), awaited one at a time
// and with many in flight, each handed back by the engine's own subscription. Starts its own
// redis-server; the full cluster run is bench.ts's scenario 5.
//
//   deno run --allow-net --allow-run --allow-read --allow-env bench/redis_calls.ts [CALLS]

import { RedisEngine } from "../lib/server/engine/redis.ts";
import { cpuSeconds, ownCpuSeconds } from "./proc.ts";
import { findProgram, ServerProcess } from "./servers.ts";

/** Room messages in flight at once in the pipelined run: the fan-out scenario's 10 x 8. */
const IN_FLIGHT = 80;

/** One run's figures. */
interface Figures {
  callsPerSec: number;
  /** Wall time per call, µs. */
  wallUs: number;
  /** This process's CPU per call (node-redis, the engine, the subscription), µs. */
  clientCpuUs: number;
  /** redis-server's CPU per call, µs. */
  redisCpuUs: number;
}

async function main(calls: number): Promise<number> {
  const binary = findProgram("redis-server");
  if (!binary) {
    console.log("skipped: no redis-server (apt-get install redis-server)");
    return 0;
  }
  await using redis = await ServerProcess.redis(binary);
  const engine = await RedisEngine.connect({
    url: `redis://127.0.0.1:${redis.port}`,
    shown: `redis://127.0.0.1:${redis.port}`,
    node: "bench",
    nodeTimeoutMs: 10_000,
    historyLines: 50,
  });
  try {
    let received = 0;
    let wanted = 0;
    let allIn: (() => void) | undefined;
    await engine.listen(() => {
      if (++received === wanted) allIn?.();
    });
    const event = { kind: "message" as const, from: "bench", text: "x".repeat(40), node: "bench" };

    /** Publishes `calls` messages, `inFlight` at a time, and waits until all came back. */
    const run = async (inFlight: number): Promise<Figures> => {
      received = 0;
      wanted = calls;
      const back = new Promise<void>((resolve) => allIn = resolve);
      const cpu0 = ownCpuSeconds();
      const redis0 = await cpuSeconds(redis.pid);
      const t0 = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < calls) {
          next++;
          await engine.publish("#bench", { ...event, ts: Date.now() });
        }
      };
      await Promise.all(Array.from({ length: inFlight }, worker));
      await back;
      const wall = (performance.now() - t0) / 1000;
      const cpu = ownCpuSeconds() - cpu0;
      const redisCpu = (await cpuSeconds(redis.pid)) - redis0;
      return {
        callsPerSec: Math.round(calls / wall),
        wallUs: Math.round(wall / calls * 1e6),
        clientCpuUs: Math.round(cpu / calls * 1e6),
        redisCpuUs: Math.round(redisCpu / calls * 1e6),
      };
    };

    await run(IN_FLIGHT); // warm up: JIT, connections
    const rows: [string, Figures][] = [
      ["one at a time", await run(1)],
      [`${IN_FLIGHT} in flight`, await run(IN_FLIGHT)],
    ];
    console.log(
      `${calls} room messages through the Redis engine (EVAL XADD+PUBLISH, then received)\n`,
    );
    console.log(
      "".padEnd(16) +
        ["calls/s", "wall µs", "client CPU µs", "Redis CPU µs"].map((h) => h.padStart(15)).join(""),
    );
    for (const [label, f] of rows) {
      const cells = [f.callsPerSec, f.wallUs, f.clientCpuUs, f.redisCpuUs];
      console.log(
        label.padEnd(16) + cells.map((c) => c.toLocaleString("en-US").padStart(15)).join(""),
      );
    }
    return 0;
  } finally {
    await engine.close();
  }
}

if (import.meta.main) {
  const calls = Number(Deno.args[0] ?? 5000);
  if (!(Number.isInteger(calls) && calls > 0)) {
    console.error(`redis_calls: invalid CALLS "${Deno.args[0]}": use a whole number above 0`);
    Deno.exit(2);
  }
  Deno.exit(await main(calls));
}
