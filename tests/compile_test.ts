// tools/compile.ts, the wrapper `deno task compile` runs: a failure is one paragraph that says
// what to do (DENORT_BIN above all), never a stack backtrace, and no executable is faked.

import assert from "node:assert/strict";
import { compileFailure } from "../tools/compile.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** What deno compile 2.9.6 prints when it cannot download the runtime (no network). */
const NO_NETWORK = `\x1b[0m\x1b[32mCompile\x1b[0m server.ts to chat-server
\x1b[0m\x1b[32mDownload\x1b[0m https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip
\x1b[0m\x1b[1m\x1b[31merror\x1b[0m: Writing deno compile executable to temporary file 'chat-server.tmp-1'

Caused by:
    0: Setting up base binary.
    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error: failed to lookup address information: Name or service not known
    2: client error (Connect)
    3: dns error
    4: failed to lookup address information: Name or service not known

Stack backtrace:
   0: <unknown>
`;

Deno.test("compileFailure() turns a failed runtime download into one paragraph naming DENORT_BIN", () => {
  const text = compileFailure("chat-server", NO_NETWORK);
  assert.equal(text.split("\n").length, 1);
  assert.match(text, /^cannot build chat-server: deno compile needs the Deno runtime/);
  assert.match(text, /could not download it \(failed to lookup address information/);
  assert.match(text, /DENORT_BIN=\/path\/to\/denort deno task compile/);
  assert.match(text, /No executable was written\.$/);
  assert.ok(!text.includes("backtrace") && !text.includes("\x1b"));
});

Deno.test("deno task compile with DENORT_BIN at a missing file: one paragraph, exit 1, nothing built", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = `${dir}/no-denort`;
    const built = () =>
      Promise.all(
        ["chat-server", "chat-client"].map((name) =>
          Deno.stat(`${ROOT}/${name}`).then((s) => s.mtime?.getTime(), () => "absent")
        ),
      );
    const before = await built();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "compile"],
      cwd: ROOT,
      env: { DENORT_BIN: missing, NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 1);
    assert.equal(
      stderr,
      `cannot build chat-server: DENORT_BIN is set to ${missing}, but deno compile cannot use it ` +
        `(Could not find denort at '${missing}': No such file or directory (os error 2)). ` +
        `Point DENORT_BIN at the denort ${Deno.version.deno} binary for this platform (unzipped ` +
        `from https://dl.deno.land/release/v${Deno.version.deno}/denort-<target>.zip), or unset ` +
        `it to let deno download it. No executable was written.\n`,
    );
    assert.deepEqual(await built(), before, "no executable written or replaced");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
