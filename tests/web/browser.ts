// Browser test helpers: Debian's chromium driven by playwright-core (no browser download), one
// page per user of the web door. Tests are ignored, saying why, where chromium is missing.

import { type Browser, chromium, type Page } from "playwright-core";

/** The browser the tests drive; LINECHAT_CHROMIUM overrides Debian's path. */
export const CHROMIUM = Deno.env.get("LINECHAT_CHROMIUM") ?? "/usr/bin/chromium";

/** Why the browser tests cannot run here, or undefined when they can. */
export const NO_BROWSER: string | undefined = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile ? undefined : `${CHROMIUM} is not a file`;
  } catch {
    return `no chromium at ${CHROMIUM} (apt-get install chromium)`;
  }
})();

if (NO_BROWSER) console.log(`skipped: ${NO_BROWSER}`);

/** Launches chromium headless, offline; close it with `await using`. */
export async function launch(): Promise<Browser & AsyncDisposable> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return Object.assign(browser, { [Symbol.asyncDispose]: () => browser.close() });
}

/** What a page did wrong: script errors and refused resources (CSP), collected as they come. */
export interface PageProblems {
  errors: string[];
}

/** Opens the door's page on `port` in a new context (its own storage), `viewport` sized. */
export async function openPage(
  browser: Browser,
  port: number,
  viewport = { width: 1280, height: 720 },
): Promise<Page & { problems: PageProblems }> {
  const context = await browser.newContext({ viewport, colorScheme: "light" });
  const page = await context.newPage();
  const problems: PageProblems = { errors: [] };
  page.on("pageerror", (err) => problems.errors.push(`pageerror: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/WebSocket|ERR_CONNECTION_REFUSED/.test(msg.text())) {
      problems.errors.push(`console: ${msg.text()}`);
    }
  });
  await page.goto(`http://127.0.0.1:${port}/`);
  return Object.assign(page, { problems });
}

/** Types a name (or a password) at the page's login box. */
export async function login(page: Page, text: string): Promise<void> {
  await page.locator("#login-input").fill(text);
  await page.locator("#login-input").press("Enter");
}

/** Opens the page, chooses `name`, and waits for the chat. */
export async function joinPage(
  browser: Browser,
  port: number,
  name: string,
  viewport?: { width: number; height: number },
): Promise<Page & { problems: PageProblems }> {
  const page = await openPage(browser, port, viewport);
  await page.locator("#login-label", { hasText: "Your name" }).waitFor();
  await login(page, name);
  await page.locator("#chat").waitFor({ state: "visible" });
  return page;
}

/** Types a line in the chat box and sends it. */
export async function say(page: Page, text: string): Promise<void> {
  await page.locator("#input").fill(text);
  await page.locator("#input").press("Enter");
}

/** Waits until the shown conversation has a line containing `text`; returns that line. */
export async function expectLine(page: Page, text: string, timeout = 5000) {
  const line = page.locator("#log .line", { hasText: text }).last();
  await line.waitFor({ timeout });
  return line;
}

/** The side list's entry for a conversation (`#dev`, or a person's name). */
export function convButton(page: Page, key: string) {
  return page.locator(`.convs button[data-key="${key}"]`);
}
