// The little HTTP/1.1 the web door speaks, pure: a bounded reader of a request's head (request line
// and headers) fed chunks of any size, responses as bytes, and the WebSocket accept key. What to
// answer is the door's (door.ts); bodies are never read.

import { createHash } from "node:crypto";

/** The longest request head (request line and headers), in bytes. */
export const MAX_HEAD_BYTES = 8192;
/** The most header lines in a request. */
export const MAX_HEADERS = 64;

/** A request's head. */
export interface RequestHead {
  method: string;
  /** The path, without its query. */
  path: string;
  /** Header values by lower-case name; repeated headers joined with ", ". */
  headers: Map<string, string>;
}

/** A request the door cannot read: the status to answer with and why. */
export interface BadRequest {
  status: number;
  reason: string;
}

const latin1 = new TextDecoder("latin1");
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Collects a request head from chunks; refuses one over {@link MAX_HEAD_BYTES} or
 * {@link MAX_HEADERS} as soon as it is.
 *
 * @example
 * ```ts
 * const reader = new HeadReader();
 * reader.push(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
 * // reader.result is { method: "GET", path: "/", headers: Map { "host" => "x" } }
 * ```
 */
export class HeadReader {
  /** The head so far; grown on demand (a connection that sends nothing holds nothing). */
  #buf = new Uint8Array(0);
  #len = 0;
  #lines = 0;
  /** The head, or why it is refused, once either is known. */
  result: RequestHead | BadRequest | undefined;

  /** Feeds bytes; returns how many were taken (bytes after the head are not). */
  push(chunk: Uint8Array): number {
    for (let i = 0; i < chunk.length; i++) {
      if (this.result) return i;
      if (this.#len === MAX_HEAD_BYTES) {
        this.result = { status: 431, reason: "request header fields too large" };
        return i;
      }
      const b = chunk[i];
      if (this.#len === this.#buf.length) {
        const grown = new Uint8Array(Math.min(MAX_HEAD_BYTES, Math.max(512, this.#len * 2)));
        grown.set(this.#buf);
        this.#buf = grown;
      }
      this.#buf[this.#len++] = b;
      if (b !== 0x0a) continue;
      if (++this.#lines > MAX_HEADERS + 1) {
        this.result = { status: 431, reason: "too many header fields" };
        return i + 1;
      }
      const end = this.#len;
      const blank = (end >= 2 && this.#buf[end - 2] === 0x0a) ||
        (end >= 3 && this.#buf[end - 2] === 0x0d && this.#buf[end - 3] === 0x0a);
      if (blank) {
        this.result = parseHead(latin1.decode(this.#buf.subarray(0, end)));
        return i + 1;
      }
    }
    return chunk.length;
  }
}

/** Parses a whole head (ending in an empty line). */
export function parseHead(text: string): RequestHead | BadRequest {
  const lines = text.split(/\r?\n/);
  const [method, target, version, ...rest] = lines[0].split(" ");
  if (
    !method || !TOKEN.test(method) || !target || rest.length > 0 ||
    !/^HTTP\/1\.[01]$/.test(version ?? "")
  ) {
    return { status: 400, reason: "bad request line" };
  }
  let path: string;
  try {
    path = new URL(target, "http://door").pathname;
  } catch {
    return { status: 400, reason: "bad request target" };
  }
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    if (colon <= 0 || !TOKEN.test(name)) return { status: 400, reason: "bad header field" };
    const value = line.slice(colon + 1).trim();
    const before = headers.get(name);
    headers.set(name, before === undefined ? value : `${before}, ${value}`);
  }
  return { method, path, headers };
}

const REASONS: Record<number, string> = {
  101: "Switching Protocols",
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  426: "Upgrade Required",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
};

const encoder = new TextEncoder();

/** A response with `connection: close`, its headers and body as bytes. */
export function response(
  status: number,
  headers: Record<string, string>,
  body: string | undefined,
  head = false,
): Uint8Array {
  const bytes = encoder.encode(body ?? "");
  const lines = [`HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  if (body !== undefined) lines.push(`content-length: ${bytes.length}`);
  lines.push("connection: close", "", "");
  const top = encoder.encode(lines.join("\r\n"));
  if (head || body === undefined) return top;
  const out = new Uint8Array(top.length + bytes.length);
  out.set(top);
  out.set(bytes, top.length);
  return out;
}

/** The 101 answer to a WebSocket upgrade with this `Sec-WebSocket-Key`. */
export function upgradeResponse(key: string): Uint8Array {
  const lines = [
    "HTTP/1.1 101 Switching Protocols",
    "upgrade: websocket",
    "connection: Upgrade",
    `sec-websocket-accept: ${acceptKey(key)}`,
    "",
    "",
  ];
  return encoder.encode(lines.join("\r\n"));
}

/** The Sec-WebSocket-Accept for a client's key (RFC 6455 section 4.2.2). */
export function acceptKey(key: string): string {
  return createHash("sha1").update(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest(
    "base64",
  );
}

/** Whether a comma-separated header value lists `token` (case-insensitively). */
export function listsToken(value: string | undefined, token: string): boolean {
  return value?.split(",").some((t) => t.trim().toLowerCase() === token) ?? false;
}
