// Which pages may open the web door's WebSocket: a browser sends the page's Origin, and only the
// server's own page (same host and port) or an origin given with --web-origin is let in. Pure;
// the door (door.ts) asks it about each upgrade.

/**
 * Whether a WebSocket upgrade with this `Origin` header may go on. No Origin: not a browser (a
 * bot or a test), which can say anything it likes anyway, so it is let in. Otherwise the
 * origin's host and port must be the `Host` the request was sent to, or the origin one of
 * `allowed` (normalised by {@link normaliseOrigin}).
 *
 * @example
 * ```ts
 * originAllowed("http://chat.lan:8081", "chat.lan:8081", []); // true
 * originAllowed("https://evil.example", "chat.lan:8081", []); // false
 * ```
 */
export function originAllowed(
  origin: string | null,
  host: string | null,
  allowed: readonly string[],
): boolean {
  if (origin === null) return true;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return false; // "null" (a sandboxed page, a file) or garbage
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return false;
  if (allowed.includes(url.origin)) return true;
  return host !== null && url.host === host.toLowerCase();
}

/**
 * An origin as browsers send it (`scheme://host[:port]`, the default port left out), for
 * --web-origin; throws a TypeError naming what is wrong.
 *
 * @example
 * ```ts
 * normaliseOrigin("HTTPS://Chat.Example:443/"); // "https://chat.example"
 * ```
 */
export function normaliseOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`"${text}" is not an origin (like https://chat.example:8443)`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new TypeError(`"${text}" is not an http or https origin`);
  }
  if (url.pathname !== "/" || url.search !== "" || url.hash !== "" || url.username !== "") {
    throw new TypeError(`"${text}" is more than an origin: give only scheme://host[:port]`);
  }
  return url.origin;
}
