// Opening the client's TCP connection with a timeout, reading the --ca file, and turning
// connection failures into one line a person can act on. Reading and writing the
// connection is left to client_app.ts.

import { X509Certificate } from "node:crypto";

/** A connection could not be set up; `message` is one line for the user. */
export class ConnectError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ConnectError";
  }
}

/**
 * The certificates of a `--ca` file (PEM), read at startup: a {@link ConnectError} when it
 * cannot be read or holds no certificate, so the mistake is named before connecting.
 */
export function readCaFile(path: string): string[] {
  let text: string;
  try {
    text = Deno.readTextFileSync(path);
  } catch (err) {
    const why = err instanceof Error ? err.message.replace(/\s*\(os error \d+\)$/, "") : err;
    throw new ConnectError(`cannot read --ca ${path}: ${why}`, { cause: err });
  }
  const pems = text.match(PEM_CERTIFICATE) ?? [];
  if (pems.length === 0) {
    throw new ConnectError(
      `--ca ${path} holds no certificate (a PEM file with -----BEGIN CERTIFICATE----- is needed)`,
    );
  }
  for (const pem of pems) {
    try {
      new X509Certificate(pem);
    } catch (err) {
      throw new ConnectError(
        `--ca ${path} holds a certificate that cannot be read (${(err as Error).message})`,
        { cause: err },
      );
    }
  }
  return [text];
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g;

/** Why a connection attempt failed, in a few words. */
export function connectFailure(err: unknown, hostname: string): string {
  if (err instanceof Deno.errors.ConnectionRefused) {
    return "connection refused (is the server running on that port?)";
  }
  if (err instanceof Deno.errors.NetworkUnreachable) return "network unreachable";
  if (err instanceof Deno.errors.TimedOut) return "timed out";
  if (err instanceof Deno.errors.PermissionDenied || err instanceof Deno.errors.NotCapable) {
    return "not allowed to use the network (run with --allow-net)";
  }
  const message = err instanceof Error ? err.message : String(err);
  if (/lookup address|name or service not known|nodename nor servname/i.test(message)) {
    return `unknown host ${hostname}`;
  }
  return message.replace(/\s*\(os error \d+\)$/, "").split("\n")[0];
}

/** How to open a connection; `Deno.connect` outside tests. */
export type Connector = (options: Deno.ConnectOptions) => Promise<Deno.TcpConn>;

/**
 * Connects to `hostname:port`, giving up after `timeoutMs`.
 * Every failure is a {@link ConnectError} whose message names the address and the reason.
 */
export async function connectTcp(
  hostname: string,
  port: number,
  timeoutMs: number,
  connect: Connector = Deno.connect,
): Promise<Deno.TcpConn> {
  const shown = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
  const abort = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new Deno.errors.TimedOut(`no answer within ${timeoutMs / 1000} s`));
    }, timeoutMs);
  });
  const attempt = connect({ hostname, port, transport: "tcp", signal: abort.signal });
  try {
    return await Promise.race([attempt, timeout]);
  } catch (err) {
    // A connection that completes after the timeout is closed, not leaked.
    attempt.then((c) => c.close(), () => {});
    const why = err instanceof Deno.errors.TimedOut && abort.signal.aborted
      ? `no answer within ${timeoutMs / 1000} s`
      : connectFailure(err, hostname);
    throw new ConnectError(`cannot connect to ${shown}: ${why}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Wraps a TCP connection in TLS and finishes the handshake before anything is sent, so a
 * certificate that does not verify is a {@link ConnectError}, never plain text.
 */
export async function startTls(
  conn: Deno.TcpConn,
  hostname: string,
  port: number,
  caCerts: string[] | undefined,
  timeoutMs: number,
): Promise<Deno.TlsConn> {
  const shown = hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
  const tls = await Deno.startTls(conn, { hostname, caCerts });
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      tls.handshake(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Deno.errors.TimedOut(`no TLS handshake within ${timeoutMs / 1000} s`)),
          timeoutMs,
        );
      }),
    ]);
    return tls;
  } catch (err) {
    tls.close();
    const message = err instanceof Error ? err.message : String(err);
    const why = /certificate|issuer|notvalidforname|signature|expired/i.test(message)
      ? `the server's certificate does not verify (${
        message.replace(/^.*?:\s*/, "")
      }); for a private certificate pass --ca FILE`
      : /InvalidContentType|corrupt message|wrong version number|packet length too long/i.test(
          message,
        )
      ? "the server does not speak TLS on this port: drop --tls"
      : /handshake|tls|eof|reset/i.test(message)
      ? `TLS handshake failed (${message}); is the server serving TLS on that port?`
      : message;
    throw new ConnectError(`cannot connect to ${shown} over TLS: ${why}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
