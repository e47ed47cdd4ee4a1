// The PROXY protocol (version 1, the text line HAProxy's `send-proxy` and nginx's
// `proxy_protocol on` send): a load balancer in front of the nodes starts each connection with
// `PROXY TCP4 CLIENT-IP BALANCER-IP CLIENT-PORT BALANCER-PORT\r\n`, so bans, mutes and the
// per-address caps see the client, not the balancer. Only addresses given with --proxy-from
// may send it (anyone else could claim any address); from them it is required, read within a
// deadline and at most 107 bytes, as the protocol's specification bounds it.

import { contains, hostAddress, type IpRange, parseIp } from "../protocol/address.ts";
import { addressText, type Transport } from "./session.ts";

/** The longest v1 line, CRLF included (the specification's bound). */
export const PROXY_LINE_MAX = 107;

/** The start of a version 2 header, which is binary; we read only version 1. */
const V2_SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

/** A PROXY line that is not one; the message says why, for the log. */
export class ProxyHeaderError extends Error {
  override name = "ProxyHeaderError";
}

/** What a PROXY line says: the client's address, or none (`UNKNOWN`: use the socket's). */
export interface ProxyHeader {
  source?: Deno.NetAddr;
}

const PORT = /^(0|[1-9]\d{0,4})$/;

/**
 * Parses one PROXY v1 line without its CRLF. Throws {@link ProxyHeaderError}.
 *
 * @example
 * ```ts
 * parseProxyLine("PROXY TCP4 203.0.113.7 10.0.0.1 40000 8080").source?.hostname; // "203.0.113.7"
 * ```
 */
export function parseProxyLine(line: string): ProxyHeader {
  const parts = line.split(" ");
  if (parts[0] !== "PROXY") throw new ProxyHeaderError("no PROXY line");
  if (parts[1] === "UNKNOWN") return {};
  if (parts.length !== 6) throw new ProxyHeaderError("a PROXY line has six fields");
  const [, family, source, destination, sourcePort, destinationPort] = parts;
  if (family !== "TCP4" && family !== "TCP6") {
    throw new ProxyHeaderError(`unknown PROXY family ${JSON.stringify(family.slice(0, 16))}`);
  }
  for (const address of [source, destination]) {
    const v4 = /^[\d.]+$/.test(address);
    if (v4 !== (family === "TCP4") || address.includes("/")) {
      throw new ProxyHeaderError(`not a ${family} address in the PROXY line`);
    }
    try {
      parseIp(address);
    } catch {
      throw new ProxyHeaderError(`not a ${family} address in the PROXY line`);
    }
  }
  for (const port of [sourcePort, destinationPort]) {
    if (!PORT.test(port) || Number(port) > 65535) {
      throw new ProxyHeaderError("not a port in the PROXY line");
    }
  }
  return { source: { transport: "tcp", hostname: source, port: Number(sourcePort) } };
}

/**
 * Reads a PROXY v1 line from the start of `conn`, at most {@link PROXY_LINE_MAX} bytes and
 * within `ms`: what it says, and the bytes read past it (the client's first bytes). Resolves
 * with `undefined` when the connection ends or is reset before its first byte (a balancer's
 * health check); throws {@link ProxyHeaderError} otherwise. `conn` is left open either way.
 */
export async function readProxyHeader(
  conn: Transport,
  ms: number,
): Promise<{ header: ProxyHeader; rest: Uint8Array } | undefined> {
  const buf = new Uint8Array(PROXY_LINE_MAX);
  let filled = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ProxyHeaderError(`no PROXY line within ${ms / 1000} s`)),
      ms,
    );
  });
  try {
    for (;;) {
      let n: number | null;
      try {
        n = await Promise.race([conn.read(buf.subarray(filled)), late]);
      } catch (err) {
        // HAProxy ends its checks with a reset, not a close.
        if (filled === 0 && err instanceof Deno.errors.ConnectionReset) return undefined;
        throw err;
      }
      if (n === null) {
        if (filled === 0) return undefined;
        throw new ProxyHeaderError("the connection ended inside its PROXY line");
      }
      filled += n;
      if (V2_SIGNATURE.every((b, i) => i >= filled || buf[i] === b) && filled >= 5) {
        throw new ProxyHeaderError("a PROXY version 2 header; send version 1 (send-proxy)");
      }
      const end = buf.subarray(0, filled).indexOf(0x0a);
      if (end >= 0) {
        if (end === 0 || buf[end - 1] !== 0x0d) {
          throw new ProxyHeaderError("the PROXY line does not end with CRLF");
        }
        const line = new TextDecoder("latin1").decode(buf.subarray(0, end - 1));
        return { header: parseProxyLine(line), rest: buf.slice(end + 1, filled) };
      }
      if (filled === PROXY_LINE_MAX) {
        throw new ProxyHeaderError(`no PROXY line in the first ${PROXY_LINE_MAX} bytes`);
      }
    }
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A balancer's connection past its PROXY line: the client's transport (its address, then its
 * bytes), or undefined once `conn` is closed: after a bad line, logged with `log` as
 * `proxy ADDRESS: WHY; closed`, or a health check's, said nowhere.
 */
export async function pastProxyLine(
  conn: Deno.Conn,
  ms: number,
  log: (line: string) => void,
): Promise<Transport | undefined> {
  let read: Awaited<ReturnType<typeof readProxyHeader>>;
  try {
    read = await readProxyHeader(conn, ms);
  } catch (err) {
    const why = err instanceof ProxyHeaderError ? err.message : (err as Error).message;
    log(`proxy ${addressText(conn.remoteAddr)}: ${why}; closed`);
  }
  if (read === undefined) {
    try {
      conn.close();
    } catch {
      // Closed already (at shutdown).
    }
    return undefined;
  }
  return new ProxiedConn(conn, read.header, read.rest);
}

/** A connection after its PROXY line: the client's address, then its bytes as they came. */
export class ProxiedConn implements Transport {
  readonly remoteAddr: Deno.Addr;
  readonly #conn: Transport;
  #rest: Uint8Array | undefined;

  constructor(conn: Transport, header: ProxyHeader, rest: Uint8Array) {
    this.#conn = conn;
    this.remoteAddr = header.source ?? conn.remoteAddr;
    this.#rest = rest.length > 0 ? rest : undefined;
  }

  read(buf: Uint8Array): Promise<number | null> {
    const rest = this.#rest;
    if (rest === undefined) return this.#conn.read(buf);
    const n = Math.min(buf.length, rest.length);
    buf.set(rest.subarray(0, n));
    this.#rest = n < rest.length ? rest.subarray(n) : undefined;
    return Promise.resolve(n);
  }

  write(bytes: Uint8Array): Promise<number> {
    return this.#conn.write(bytes);
  }

  close(): void {
    this.#conn.close();
  }
}

/** The balancers allowed to send a PROXY line, from --proxy-from. */
export class ProxySources {
  readonly #ranges: IpRange[];

  /** `list`: addresses or CIDR ranges; throws AddressError on a bad one. */
  constructor(list: string[]) {
    this.#ranges = list.map((text) => parseIp(text));
  }

  /** Whether a connection from `hostname` (Deno's remoteAddr.hostname) must start with one. */
  has(hostname: string): boolean {
    const address = hostAddress(hostname);
    return address !== undefined && this.#ranges.some((r) => contains(r, address));
  }
}
