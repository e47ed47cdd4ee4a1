// Helpers shared by the two command lines (server.ts, client.ts): flag parsing with
// one-line errors, port checks, environment reads, reading stdin and writing stdout, and
// leaving with an exit code but no stack trace.

import { parseArgs, type ParseArgsConfig } from "node:util";

/** A command-line mistake: printed as one line, exit code 1. */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** Parses `args` strictly; unknown flags and missing values become a {@link UsageError}. */
export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new UsageError(message.replace(/\. To specify a positional.*$/, ""), { cause: err });
  }
}

/** A TCP port from a flag or argument: an integer 0..65535. */
export function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new UsageError(`invalid port "${text}": use a number from 0 to 65535`);
  }
  return port;
}

/** A flag's amount: a positive number (with a fraction, e.g. seconds), or 0 when `zeroOff`. */
export function parseAmount(flag: string, text: string, zeroOff: boolean): number {
  const n = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(n > 0 || (zeroOff && n === 0)) || !Number.isFinite(n)) {
    const want = zeroOff ? "a number, 0 to turn it off" : "a number above 0";
    throw new UsageError(`invalid --${flag} "${text}": use ${want}`);
  }
  return n;
}

/** Applies the positional `HOST PORT` form (seed 000) on top of flag values. */
export function hostAndPort(
  positionals: string[],
  host: string,
  port: string,
): { host: string; port: number } {
  if (positionals.length > 2) {
    throw new UsageError(`unexpected argument "${positionals[2]}" (try --help)`);
  }
  return { host: positionals[0] ?? host, port: parsePort(positionals[1] ?? port) };
}

/** Prints `program: message` on stderr and exits with `code`, no stack trace. */
export function die(program: string, message: string, code = 1): never {
  console.error(`${program}: ${message}`);
  Deno.exit(code);
}

/**
 * The Ctrl+C behaviour of seed 000: the first call starts `shutdown` and exits with 0
 * when it is done (1 if it fails); a second call while it runs exits at once with 130.
 */
export function twoStageStop(
  shutdown: () => Promise<void>,
  exit: (code: number) => void,
  log: (line: string) => void,
): () => void {
  let stopping = false;
  return () => {
    if (stopping) {
      log("second interrupt: exiting now");
      exit(130);
      return;
    }
    stopping = true;
    shutdown().then(() => exit(0), (err) => {
      log(`shutdown failed: ${err instanceof Error ? err.message : String(err)}`);
      exit(1);
    });
  };
}

/** Reads an environment variable only if access is granted, so a missing grant never prompts. */
export function readEnv(name: string): string | undefined {
  try {
    if (Deno.permissions.querySync({ name: "env", variable: name }).state !== "granted") {
      return undefined;
    }
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

const encoder = new TextEncoder();

/** Writes all of `text` to stdout, synchronously (partial writes are continued). */
export function writeStdoutSync(text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += Deno.stdout.writeSync(bytes.subarray(offset));
}

/** Reads stdin into `buf`: the byte count, or null at its end (or when it cannot be read). */
export async function readStdin(buf: Uint8Array): Promise<number | null> {
  try {
    return await Deno.stdin.read(buf);
  } catch {
    return null;
  }
}
