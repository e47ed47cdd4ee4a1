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

/**
 * Parses `args` strictly; unknown flags and missing values become a {@link UsageError}.
 * A negative number is a value, not a flag: `--port -1` reads as `--port=-1` and a lone
 * `-1` as a positional, so the value's own check answers (not the parser's "ambiguous").
 */
export function parseFlags<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: O,
) {
  try {
    return parseArgs({
      args: negativesAsValues(args, options),
      options,
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    const message = err instanceof Error ? err.message.split("\n")[0] : String(err);
    throw new UsageError(message.replace(/\. To specify a positional.*$/, ""), { cause: err });
  }
}

const NEGATIVE = /^-[\d.]/;

/** `args` with negative numbers given to long string flags and the positionals at the end. */
function negativesAsValues(
  args: string[],
  options: NonNullable<ParseArgsConfig["options"]>,
): string[] {
  const flags: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const next = args[i + 1];
    if (arg === "--") {
      positionals.push(...args.slice(i + 1));
      break;
    } else if (/^--[^=]+$/.test(arg) && options[arg.slice(2)]?.type === "string") {
      if (next === undefined || (next.startsWith("-") && !NEGATIVE.test(next))) {
        flags.push(arg); // the parser says what is missing
      } else {
        flags.push(`${arg}=${next}`);
        i++;
      }
    } else if (arg.startsWith("-") && !NEGATIVE.test(arg)) {
      flags.push(arg);
    } else {
      positionals.push(arg);
    }
  }
  return positionals.length === 0 ? flags : [...flags, "--", ...positionals];
}

/**
 * A TCP port from a flag or argument: an integer `min`..65535. A server takes 0 (any free
 * port, the default `min`); a client needs 1 or more.
 */
export function parsePort(text: string, min = 0): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(port >= min && port <= 65535)) {
    throw new UsageError(`invalid port "${text}": use a number from ${min} to 65535`);
  }
  return port;
}

/** The values a numeric flag takes. */
export interface AmountRange {
  /** The smallest value but 0. */
  min: number;
  max: number;
  /** Whole numbers only; otherwise decimals (seconds) are fine. */
  integer: boolean;
  /** 0 is allowed too, and turns the limit off. */
  zeroOff: boolean;
}

/**
 * A flag's amount within `range`, or a {@link UsageError} of one line saying what it takes:
 * `invalid --burst "0.5": use a whole number from 1 to 1000000`.
 */
export function parseAmount(flag: string, text: string, range: AmountRange): number {
  const { min, max, integer, zeroOff } = range;
  const n = (integer ? /^\d+$/ : /^\d+(\.\d+)?$/).test(text) ? Number(text) : NaN;
  if (!((n >= min && n <= max) || (zeroOff && n === 0))) {
    throw new UsageError(
      `invalid --${flag} "${text}": use ${
        integer ? "a whole number" : "a number"
      } from ${min} to ${max}${zeroOff ? ", or 0 to turn it off" : ""}`,
    );
  }
  return n;
}

/**
 * Applies the positional `HOST PORT` form (seed 000) on top of flag values; the port is
 * checked by {@link parsePort} with `minPort`.
 */
export function hostAndPort(
  positionals: string[],
  host: string,
  port: string,
  minPort = 0,
): { host: string; port: number } {
  if (positionals.length > 2) throw new UsageError(`unexpected argument "${positionals[2]}"`);
  return { host: positionals[0] ?? host, port: parsePort(positionals[1] ?? port, minPort) };
}

/** Prints `program: message` on stderr and exits with `code`, no stack trace. */
export function die(program: string, message: string, code = 1): never {
  console.error(`${program}: ${message}`);
  Deno.exit(code);
}

/**
 * How soon after the first interrupt a second one is taken as the same Ctrl+C: `npx` forwards
 * the signal the process also receives, 5-30 ms apart.
 */
export const SAME_INTERRUPT_MS = 100;

/**
 * The Ctrl+C behaviour of seed 000: the first call starts `shutdown` and exits with 0
 * when it is done (1 if it fails); a second call while it runs exits at once with 130.
 * A call within {@link SAME_INTERRUPT_MS} of the first is the same interrupt, ignored.
 */
export function twoStageStop(
  shutdown: () => Promise<void>,
  exit: (code: number) => void,
  log: (line: string) => void,
  now: () => number = performance.now.bind(performance),
): () => void {
  let stoppedAt: number | undefined;
  return () => {
    if (stoppedAt !== undefined) {
      if (now() - stoppedAt < SAME_INTERRUPT_MS) return;
      log("second interrupt: exiting now");
      exit(130);
      return;
    }
    stoppedAt = now();
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
