// TLS mistakes, end to end: plain text to a TLS port is answered in plain text, a --tls client
// on a plain port is told to drop --tls, and a --ca file without a certificate is named at
// startup. Each message says which flag to add or drop.

import assert from "node:assert/strict";
import { PLAIN_TEXT_REPLY } from "../lib/server/tls_transport.ts";
import { clientProcess, LineClient, LineQueue, startServer } from "./helpers.ts";
import { selfSigned } from "./tls_certs.ts";

/** Runs client.ts with stdin closed at once; returns its exit code and output. */
async function runClient(args: string[]) {
  const child = clientProcess(args);
  await child.stdin.close();
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

Deno.test("TlsTransport answers plain text on a TLS port with PLAIN_TEXT_REPLY in plain text, then closes", async () => {
  const logs = new LineQueue();
  await using server = startServer({ tls: await selfSigned(), log: (l) => logs.push(l) });
  await using nc = await LineClient.connect(server.addr.port);
  await nc.send("alice");
  assert.deepEqual(await nc.expectClosed(), [PLAIN_TEXT_REPLY]);
  assert.match(PLAIN_TEXT_REPLY, /--tls/);
  await logs.expect(
    /^tls 127\.0\.0\.1:\d+: plain text on the TLS port; told to connect with TLS; closed$/,
  );
  assert.equal(server.socketCount, 0);
});

Deno.test("client.ts without --tls on a TLS port shows the server's hint to add --tls", async () => {
  await using server = startServer({ tls: await selfSigned() });
  const r = await runClient(["--port", String(server.addr.port), "--name", "alice"]);
  assert.equal(r.code, 1);
  assert.match(r.stdout + r.stderr, /this port speaks TLS: connect with --tls/);
});

Deno.test("startTls() on a plain port says the server does not speak TLS there: drop --tls", async () => {
  await using server = startServer();
  const r = await runClient(["--tls", "--port", String(server.addr.port), "--name", "alice"]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /^chat-client: cannot connect to 127\.0\.0\.1:\d+ over TLS: the server does not speak TLS on this port: drop --tls\n$/,
  );
  assert.equal(r.stdout, "");
});

Deno.test("readCaFile() refuses a --ca file with no certificate, at startup", async (t) => {
  const dir = await Deno.makeTempDir();
  try {
    const { key, cert } = await selfSigned();
    const cases: [string, string, RegExp][] = [
      [
        "a key",
        key,
        /holds no certificate \(a PEM file with -----BEGIN CERTIFICATE----- is needed\)/,
      ],
      ["empty", "", /holds no certificate/],
      [
        "a broken certificate",
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        /holds a certificate that cannot be read/,
      ],
      ["a missing file", "", /^chat-client: cannot read --ca \S+: No such file/],
    ];
    for (const [what, text, pattern] of cases) {
      await t.step(what, async () => {
        const file = `${dir}/${what.replaceAll(" ", "_")}.pem`;
        if (what !== "a missing file") await Deno.writeTextFile(file, text);
        // Nothing listens on port 1: the file is checked before connecting.
        const r = await runClient(["--tls", "--ca", file, "--port", "1"]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, pattern);
        assert.doesNotMatch(r.stderr, /connect/);
        assert.equal(r.stderr.trim().split("\n").length, 1);
      });
    }
    await t.step("a good certificate is taken", async () => {
      await Deno.writeTextFile(`${dir}/good.pem`, cert);
      const r = await runClient(["--tls", "--ca", `${dir}/good.pem`, "--port", "1"]);
      assert.match(r.stderr, /cannot connect to 127\.0\.0\.1:1: connection refused/);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
