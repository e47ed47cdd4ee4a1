// originAllowed() and normaliseOrigin(): which pages may open the web door's WebSocket.

import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { normaliseOrigin, originAllowed } from "../lib/server/web/origin.ts";

Deno.test("originAllowed() lets in the server's own page and the origins given, no other", async (t) => {
  const cases: [string | null, string | null, string[], boolean][] = [
    [null, "chat.lan:8081", [], true],
    ["http://chat.lan:8081", "chat.lan:8081", [], true],
    ["https://chat.lan:8081", "CHAT.lan:8081", [], true],
    ["http://chat.lan", "chat.lan", [], true],
    ["http://chat.lan:80", "chat.lan", [], true],
    ["http://chat.lan:8082", "chat.lan:8081", [], false],
    ["http://evil.example", "chat.lan:8081", [], false],
    ["http://chat.lan.evil.example:8081", "chat.lan:8081", [], false],
    ["null", "chat.lan:8081", [], false],
    ["file://", "chat.lan:8081", [], false],
    ["not a url", "chat.lan:8081", [], false],
    ["http://chat.lan:8081", null, [], false],
    ["https://chat.example", "chat.lan:8081", ["https://chat.example"], true],
    ["http://chat.example", "chat.lan:8081", ["https://chat.example"], false],
  ];
  for (const [origin, host, allowed, ok] of cases) {
    await t.step(`${origin} to ${host} (${allowed.join(",")}): ${ok}`, () => {
      assertEquals(originAllowed(origin, host, allowed), ok);
    });
  }
});

Deno.test("normaliseOrigin() gives an origin as browsers send it, or says what is wrong", () => {
  assertEquals(normaliseOrigin("HTTPS://Chat.Example:443/"), "https://chat.example");
  assertEquals(normaliseOrigin("http://10.0.0.2:8081"), "http://10.0.0.2:8081");
  throws(() => normaliseOrigin("chat.example"), /not an origin/);
  throws(() => normaliseOrigin("ftp://chat.example"), /not an http or https origin/);
  throws(() => normaliseOrigin("https://chat.example/chat"), /more than an origin/);
});
