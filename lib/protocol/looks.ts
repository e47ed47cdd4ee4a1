// How every client shows people and times alike: a stable colour per name, the mention rule
// and the clock. Pure, and with no imports: the web door also ships these functions' source to
// the browser, so chat-client and the page agree.

/** Foreground colours names are drawn in: readable on dark and light backgrounds. */
export const NAME_COLOURS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96] as const;

/** A stable colour for a name (FNV-1a over its lower-case form), the same in every client. */
export function nameColour(name: string): number {
  let h = 0x811c9dc5;
  for (const c of name.toLowerCase()) {
    h ^= c.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return NAME_COLOURS[h % NAME_COLOURS.length];
}

/** `s` with every character a regular expression treats specially escaped. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&");
}

/** Whether `text` mentions `name` as a whole word (any case, `@` allowed). */
export function mentions(text: string, name: string | undefined): boolean {
  if (!name) return false;
  return new RegExp(`(?<![A-Za-z0-9_.-])${escapeRegExp(name)}(?![A-Za-z0-9_-])`, "i").test(text);
}

/** `HH:MM` in local time. */
export function clock(ts: number): string {
  const d = new Date(ts);
  return `${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`;
}
