// The chat page in a real browser (chromium via playwright-core) against the real server: pages
// and telnet-style clients in the same rooms. Run with `deno task test:web` (it needs -A).

import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { joinAs, startServer } from "../helpers.ts";
import {
  convButton,
  expectLine,
  joinPage,
  launch,
  login,
  NO_BROWSER,
  openPage,
  say,
} from "./browser.ts";
import type { ChatServer } from "../../lib/server/server.ts";
import type { Page } from "playwright-core";

const ignore = NO_BROWSER !== undefined;

function webPort(server: ChatServer): number {
  assert(server.webAddr);
  return server.webAddr.port;
}

/** Fails if the page had script errors or refused resources. */
function assertClean(page: Page & { problems: { errors: string[] } }): void {
  assertEquals(page.problems.errors, []);
}

Deno.test({
  name: "page: two pages and a telnet client chat both ways",
  ignore,
  fn: async () => {
    await using server = startServer({ web: { port: 0 } });
    await using browser = await launch();
    const alice = await joinPage(browser, webPort(server), "alice");
    const bob = await joinPage(browser, webPort(server), "bob");
    await using carol = await joinAs(server.addr.port, "carol");
    await say(alice, "hello from alice's browser");
    await expectLine(bob, "hello from alice's browser");
    await carol.expect("alice: hello from alice's browser");
    await carol.send("hello from carol's terminal");
    await expectLine(alice, "hello from carol's terminal");
    await expectLine(bob, "hello from carol's terminal");
    await say(bob, "and bob's browser");
    await expectLine(alice, "and bob's browser");
    await carol.expect("bob: and bob's browser");
    const name = alice.locator("#log .line", { hasText: "and bob's browser" }).locator(".name");
    assertEquals(await name.textContent(), "bob");
    assert(/\bc\d\d\b/.test((await name.getAttribute("class")) ?? ""), "bob's name has a colour");
    assertEquals(
      await alice.locator("#member-list").innerText().then((t) => t.split("\n").sort()),
      ["alice", "bob", "carol"],
    );
    assertClean(alice);
    assertClean(bob);
  },
});

Deno.test({
  name: "page: rooms in the side list with unread counts, a marker, and /commands typed",
  ignore,
  fn: async () => {
    await using server = startServer({ web: { port: 0 } });
    await using browser = await launch();
    const alice = await joinPage(browser, webPort(server), "alice");
    await using bob = await joinAs(server.addr.port, "bob");
    await bob.send("/join #dev");
    await bob.expect("you are in #dev");
    await say(alice, "/join #dev");
    await alice.locator("#title", { hasText: "#dev" }).waitFor();
    await bob.expect("alice joined #dev");
    await convButton(alice, "#lobby").click();
    await alice.locator("#title", { hasText: "#lobby" }).waitFor();
    await bob.send("first in dev");
    await bob.send("second in dev");
    await convButton(alice, "#dev").locator(".unread", { hasText: "2" }).waitFor();
    assertEquals(await alice.title(), "(2) linechat");
    await convButton(alice, "#dev").click();
    await expectLine(alice, "second in dev");
    assertEquals(await convButton(alice, "#dev").locator(".badge").count(), 0);
    assertEquals(await alice.title(), "linechat");
    const texts = await alice.locator("#log li").allInnerTexts();
    const marker = texts.findIndex((t) => t.includes("new messages"));
    assert(marker >= 0 && texts[marker + 1].includes("first in dev"), texts.join(" | "));
    await say(alice, "/topic builds and <b>bugs</b>");
    await alice.locator("#topic", { hasText: "builds and <b>bugs</b>" }).waitFor();
    await say(alice, "/part");
    await alice.locator("#title", { hasText: "#lobby" }).waitFor();
    assertEquals(await convButton(alice, "#dev").count(), 0);
    assertClean(alice);
  },
});

Deno.test({
  name: "page: history on joining, then a new-messages marker",
  ignore,
  fn: async () => {
    await using server = startServer({ web: { port: 0 } });
    await using bob = await joinAs(server.addr.port, "bob");
    await bob.send("said before alice came");
    await bob.send("said just before");
    await using browser = await launch();
    const alice = await joinPage(browser, webPort(server), "alice");
    const old = await expectLine(alice, "said just before");
    assert(/\bhistory\b/.test((await old.getAttribute("class")) ?? ""));
    await alice.locator("#log .marker").waitFor();
    await bob.send("said after");
    await expectLine(alice, "said after");
    const texts = await alice.locator("#log li").allInnerTexts();
    const marker = texts.findIndex((t) => t.includes("new messages"));
    assert(texts.slice(0, marker).some((t) => t.includes("said before alice came")));
    assert(texts.slice(marker).some((t) => t.includes("said after")));
    assertClean(alice);
  },
});

Deno.test({
  name: "page: private and group conversations with telnet users, both ways",
  ignore,
  fn: async () => {
    await using server = startServer({ web: { port: 0 } });
    await using browser = await launch();
    const alice = await joinPage(browser, webPort(server), "alice");
    await using bob = await joinAs(server.addr.port, "bob");
    await bob.send("/pm alice just between us");
    const entry = convButton(alice, "@bob");
    await entry.locator(".unread", { hasText: "1" }).waitFor();
    assertEquals(await entry.locator(".mention-badge").count(), 1);
    await entry.click();
    await alice.locator("#title", { hasText: "private: bob" }).waitFor();
    await expectLine(alice, "just between us");
    await say(alice, "agreed");
    await bob.expect("[pm from alice] agreed");
    await expectLine(alice, "agreed");
    await bob.send("in the room");
    await convButton(alice, "#lobby").locator(".unread").waitFor();
    await using carol = await joinAs(server.addr.port, "carol");
    await carol.send("/gm bob, alice the three of us");
    await convButton(alice, "@bob, carol").click();
    await expectLine(alice, "the three of us");
    await say(alice, "a group reply");
    await bob.expect(/group from alice .*a group reply/);
    await carol.expect(/group from alice .*a group reply/);
    assertClean(alice);
  },
});

Deno.test({
  name: "page: a mention is highlighted, and badged in another room",
  ignore,
  fn: async () => {
    await using server = startServer({ web: { port: 0 } });
    await using browser = await launch();
    const alice = await joinPage(browser, webPort(server), "alice");
    await using bob = await joinAs(server.addr.port, "bob");
    await bob.send("hey alice, look");
    const line = await expectLine(alice, "hey alice, look");
    assert(/\bmention\b/.test((await line.getAttribute("class")) ?? ""));
    await bob.send("no one in particular");
    const plain = await expectLine(alice, "no one in particular");
    assert(!/\bmention\b/.test((await plain.getAttribute("class")) ?? ""));
    await say(alice, "/join #dev");
    await alice.locator("#title", { hasText: "#dev" }).waitFor();
    await bob.send("@ALICE are you there?");
    await convButton(alice, "#lobby").locator(".mention-badge").waitFor();
    assertClean(alice);
  },
});

Deno.test({
  name: "page: hostile text in messages, topics and actions is shown as text",
  ignore,
  fn: async () => {
    await using server = startServer({ web: { port: 0 } });
    await using browser = await launch();
    const alice = await joinPage(browser, webPort(server), "alice");
    await using bob = await joinAs(server.addr.port, "bob");
    const hostile = [
      `<img src=x onerror="window.pwned=1">`,
      `<script>window.pwned=2</script>`,
      `"><svg onload=window.pwned=3>`,
      `a link javascript:window.pwned=4 &amp; &lt;b&gt;`,
    ];
    for (const h of hostile) await bob.send(h);
    await bob.send(`/me <b onclick="window.pwned=5">waves</b>`);
    await bob.send(`/topic <iframe src="javascript:window.pwned=6">`);
    for (const h of hostile) await expectLine(alice, h);
    await expectLine(alice, `<b onclick="window.pwned=5">waves</b>`);
    await alice.locator("#topic", { hasText: `<iframe src="javascript:window.pwned=6">` })
      .waitFor();
    assertEquals(await alice.evaluate(() => (globalThis as { pwned?: number }).pwned), undefined);
    assertEquals(await alice.locator("#log img, #log script, #log svg, #log b, iframe").count(), 0);
    assertClean(alice);
  },
});

Deno.test({
  name: "page: the join password is asked in a hidden field, then the name",
  ignore,
  fn: async () => {
    await using server = startServer({
      web: { port: 0 },
      password: "open sesame",
      limits: { authDelayMs: 10, authMaxDelayMs: 20 },
    });
    await using browser = await launch();
    const page = await openPage(browser, webPort(server));
    await page.locator("#login-label", { hasText: "server's password" }).waitFor();
    assertEquals(await page.locator("#login-input").getAttribute("type"), "password");
    await login(page, "wrong guess");
    await page.locator("#login-error", { hasText: "wrong password" }).waitFor();
    assertEquals(await page.locator("#login-input").getAttribute("type"), "password");
    await login(page, "open sesame");
    await page.locator("#login-label", { hasText: "Your name" }).waitFor();
    assertEquals(await page.locator("#login-input").getAttribute("type"), "text");
    await login(page, "alice");
    await page.locator("#chat").waitFor({ state: "visible" });
    assertEquals(server.names, ["alice"]);
    assertClean(page);
  },
});

Deno.test({
  name: "page: a registered name's password is asked in a hidden field",
  ignore,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      await using server = startServer({
        web: { port: 0 },
        dataFile: `${dir}/chat.db`,
        limits: { authDelayMs: 10, authMaxDelayMs: 20 },
      });
      {
        await using bob = await joinAs(server.addr.port, "bob");
        await bob.send("/register bobs-secret-77");
        await bob.expect("bob is yours now");
        await bob.send("/quit");
        await bob.expectClosed();
      }
      await using browser = await launch();
      const page = await openPage(browser, webPort(server));
      await page.locator("#login-label", { hasText: "Your name" }).waitFor();
      await login(page, "bob");
      await page.locator("#login-label", { hasText: "password for bob" }).waitFor();
      assertEquals(await page.locator("#login-input").getAttribute("type"), "password");
      await login(page, "bobs-secret-77");
      await page.locator("#chat").waitFor({ state: "visible" });
      assertEquals(server.names, ["bob"]);
      assertClean(page);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "page: reconnects after a server restart, says so, and takes back its name and rooms",
  ignore,
  fn: async () => {
    let server = startServer({ web: { port: 0 } });
    const port = webPort(server);
    try {
      await using browser = await launch();
      const alice = await joinPage(browser, port, "alice");
      await say(alice, "/join #dev");
      await alice.locator("#title", { hasText: "#dev" }).waitFor();
      await server.shutdown();
      await alice.locator("#banner", { hasText: "reconnecting" }).waitFor();
      server = startServer({ web: { port } });
      await using bob = await joinAs(server.addr.port, "bob");
      await bob.send("/join #dev");
      await bob.expect("alice", 15_000);
      await alice.locator("#banner").waitFor({ state: "hidden", timeout: 15_000 });
      await alice.locator("#member-list", { hasText: "bob" }).waitFor({ timeout: 15_000 });
      await bob.send("welcome back");
      await expectLine(alice, "welcome back");
      assertClean(alice);
    } finally {
      await server.shutdown();
    }
  },
});

Deno.test({
  name:
    "page: a phone viewport shows one column, the rooms slide in from a button; dark follows the system",
  ignore,
  fn: async () => {
    await using server = startServer({ web: { port: 0 } });
    await using browser = await launch();
    const phone = { width: 390, height: 844 };
    const alice = await joinPage(browser, webPort(server), "alice", phone);
    await using bob = await joinAs(server.addr.port, "bob");
    await bob.send("hi from a terminal, alice");
    await expectLine(alice, "hi from a terminal");
    assert(!(await alice.locator("#side").isVisible()), "the side list starts hidden");
    assert(await alice.locator("#input").isVisible());
    const box = await alice.locator("#log").boundingBox();
    assert(box && box.width >= phone.width - 2, `the log takes the width (${box?.width})`);
    await alice.locator("#menu").click();
    assert(await alice.locator("#side").isVisible());
    await convButton(alice, "#lobby").click();
    assert(!(await alice.locator("#side").isVisible()), "choosing a room closes the list");
    const background = () => alice.evaluate("getComputedStyle(document.body).backgroundColor");
    assertEquals(await background(), "rgb(255, 255, 255)");
    await alice.emulateMedia({ colorScheme: "dark" });
    assertEquals(await background(), "rgb(22, 24, 29)");
    assertClean(alice);
  },
});

/** Fills a page with a small conversation for the README's pictures. */
async function screenshot(viewport: { width: number; height: number }, file: string) {
  await using server = startServer({ web: { port: 0 } });
  await using browser = await launch();
  await using bob = await joinAs(server.addr.port, "bob");
  await using carol = await joinAs(server.addr.port, "carol");
  await bob.send("morning! the build is green again");
  await carol.send("/me brings coffee");
  await bob.send("/join #dev");
  await bob.expect("you are in #dev");
  const alice = await joinPage(browser, webPort(server), "alice", viewport);
  await expectLine(alice, "brings coffee");
  await say(alice, "thanks carol! who is on the release today?");
  await carol.send("alice: bob is, I am reviewing");
  await expectLine(alice, "I am reviewing");
  await say(alice, "/join #dev");
  await alice.locator("#title", { hasText: "#dev" }).waitFor();
  await say(alice, "/join #lobby");
  await alice.locator("#title", { hasText: "#lobby" }).waitFor();
  await bob.send("/pm alice can you look at #42 after lunch?");
  await convButton(alice, "@bob").waitFor({ state: "attached" });
  await carol.send("<b>not bold</b>, just text");
  await expectLine(alice, "just text");
  await alice.screenshot({ path: file });
}

Deno.test({
  name: "page: screenshots for the README (docs/web-desktop.png, docs/web-phone.png)",
  ignore,
  fn: async () => {
    await screenshot({ width: 1100, height: 560 }, "docs/web-desktop.png");
    await screenshot({ width: 390, height: 720 }, "docs/web-phone.png");
    for (const f of ["docs/web-desktop.png", "docs/web-phone.png"]) {
      assert((await Deno.stat(f)).size > 5000, `${f} was written`);
    }
  },
});
