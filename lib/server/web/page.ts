// The chat page the web door serves: HTML, CSS and a script, shipped inside the program (text
// imports, so `deno compile` embeds them; no build step, nothing from elsewhere). The script gets
// chat-client's name colours, mention rule, clock and reconnect delay, as their source.

import html from "./page/index.html" with { type: "text" };
import css from "./page/style.css" with { type: "text" };
import app from "./page/app.js" with { type: "text" };
import { clock, escapeRegExp, mentions, NAME_COLOURS, nameColour } from "../../protocol/looks.ts";
import { RECONNECT_MAX_MS, RECONNECT_MIN_MS, reconnectDelay } from "../../protocol/reconnect.ts";

/** One file the page needs: its media type and body. */
export interface Asset {
  type: string;
  body: string;
}

/** The script: chat-client's helpers (as their source), then the page's own code. */
const script = `"use strict";
(() => {
const NAME_COLOURS = ${JSON.stringify(NAME_COLOURS)};
const RECONNECT_MIN_MS = ${RECONNECT_MIN_MS};
const RECONNECT_MAX_MS = ${RECONNECT_MAX_MS};
${reconnectDelay}
${escapeRegExp}
${nameColour}
${mentions}
${clock}
${app}
})();
`;

const ASSETS: Record<string, Asset> = {
  "/": { type: "text/html; charset=utf-8", body: html },
  "/app.css": { type: "text/css; charset=utf-8", body: css },
  "/app.js": { type: "text/javascript; charset=utf-8", body: script },
};

/** The asset served at `path`, if any. */
export function asset(path: string): Asset | undefined {
  return Object.hasOwn(ASSETS, path) ? ASSETS[path] : undefined;
}
