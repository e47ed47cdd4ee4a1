// Opens the engine `--engine` names: the memory engine at once, the Redis engine after its
// first connection answers (node-redis is imported only then, so a single node never loads it).

import type { Engine, EngineOptions, EngineSpec } from "./engine.ts";
import { MemoryEngine } from "./memory.ts";

/**
 * The engine for `spec`. For Redis, throws EngineUnreachableError with one line
 * when Redis does not answer; `log` gets its later losses and recoveries.
 */
export async function openEngine(
  spec: EngineSpec,
  options: EngineOptions,
  log?: (line: string) => void,
): Promise<Engine> {
  if (spec.kind === "memory") return new MemoryEngine(options);
  const { RedisEngine } = await import("./redis.ts");
  return await RedisEngine.connect({ ...options, url: spec.url, shown: spec.shown, log });
}
