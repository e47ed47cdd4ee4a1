// `deno task compile`: builds the chat-server and chat-client executables with deno compile,
// and turns its failures (the runtime it downloads, above all) into one paragraph that says
// what to do. The flags each program needs are deno.json's; compiling is deno's.

/** The executables to build: the output name, the script and the permissions it runs with. */
const TARGETS: { output: string; script: string; permissions: string[] }[] = [
  {
    output: "chat-server",
    script: "server.ts",
    permissions: [
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-sys=hostname",
      "--allow-env=LINECHAT_PASSWORD,LINECHAT_OP_PASSWORD,LINECHAT_REDIS_PASSWORD,REDIS_DEBUG_MAINTENANCE,REDIS_EMIT_DIAGNOSTICS",
    ],
  },
  {
    output: "chat-client",
    script: "client.ts",
    permissions: ["--allow-net", "--allow-read", "--allow-env=NO_COLOR,TERM,LINECHAT_PASSWORD"],
  },
];

/**
 * One paragraph for a failed `deno compile` of `output`, from its stderr: the cause without
 * colours, the `Caused by` numbering or the stack backtrace, and what to do about it.
 */
export function compileFailure(output: string, stderr: string, denortBin?: string): string {
  // deno-lint-ignore no-control-regex
  const plain = stderr.replace(/\x1b\[[0-9;]*m/g, "").split("\nStack backtrace:")[0];
  const causes = plain.split("\n")
    .map((l) => l.replace(/^\s*(\d+:|error:)\s*/, "").trim())
    .filter((l) =>
      l !== "" && !/^(Caused by:|Check |Compile |Download |Writing deno compile)/.test(l)
    );
  const cause = causes.at(-1) ?? "deno compile failed";
  const version = Deno.version.deno;
  if (denortBin !== undefined && /denort/i.test(plain)) {
    const why = causes.filter((c) => !/^Setting up base binary/.test(c)).join(": ");
    return `cannot build ${output}: DENORT_BIN is set to ${denortBin}, but deno compile cannot ` +
      `use it (${why}). Point DENORT_BIN at the denort ${version} binary for this platform ` +
      `(unzipped from https://dl.deno.land/release/v${version}/denort-<target>.zip), or unset ` +
      `it to let deno download it. No executable was written.`;
  }
  if (/dl\.deno\.land|denort|sending request|dns error|Setting up base binary/i.test(plain)) {
    return `cannot build ${output}: deno compile needs the Deno runtime (denort ${version}) and ` +
      `could not download it (${cause}). On a machine without network access, download ` +
      `denort-<target>.zip for v${version} from https://dl.deno.land elsewhere, unzip it, and ` +
      `run again with DENORT_BIN=/path/to/denort deno task compile. No executable was written.`;
  }
  return `cannot build ${output}: ${cause}. No executable was written.`;
}

async function main(): Promise<number> {
  const denortBin = Deno.env.get("DENORT_BIN");
  for (const { output, script, permissions } of TARGETS) {
    const { success, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["compile", ...permissions, "--output", output, script],
      stdout: "inherit",
      stderr: "piped",
    }).output();
    if (!success) {
      console.error(compileFailure(output, new TextDecoder().decode(stderr), denortBin));
      return 1;
    }
    console.log(`built ./${output}`);
  }
  return 0;
}

if (import.meta.main) Deno.exit(await main());
