// TLS for the server: wraps an accepted plain Deno.Conn in node:tls, with a handshake deadline,
// and adapts the TLS socket to the Transport a Session reads and writes. Closing closes the
// Deno.Conn itself, whatever stage the handshake reached (Deno.listenTls cannot close a
// connection whose handshake never finished). A client speaking plain text to it is told so in
// plain text. Accepting, caps and logging are left to server.ts.

import { createPrivateKey, X509Certificate } from "node:crypto";
import { Duplex } from "node:stream";
import { createSecureContext, type SecureContext, TLSSocket } from "node:tls";
import { READ_BUFFER_BYTES } from "./limits.ts";
import type { Transport } from "./session.ts";

/**
 * Checks that `cert` and `key` (PEM) are a certificate and the private key that goes with it,
 * and returns the context to serve them with. Throws an Error saying what is wrong.
 */
export function tlsContext(cert: string, key: string): SecureContext {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (err) {
    throw new Error(`not a PEM certificate (${(err as Error).message})`, { cause: err });
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch (err) {
    throw new Error(`not a PEM private key (${(err as Error).message})`, { cause: err });
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new Error("the private key does not match the certificate");
  }
  return createSecureContext({ cert, key });
}

/** The first byte of a TLS handshake record: anything else opening a connection is not TLS. */
const TLS_HANDSHAKE_RECORD = 0x16;

/** The plain-text answer to a client that does not speak TLS to a TLS port. */
export const PLAIN_TEXT_REPLY =
  "this port speaks TLS: connect with --tls (chat-client) or openssl s_client";

/** A TLS handshake that failed or took too long; the connection is closed by then. */
export class TlsHandshakeError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "TlsHandshakeError";
  }
}

/**
 * One accepted connection served over TLS. Call {@link TlsTransport.handshake} first; reads
 * wait for the peer's data (the TLS socket is paused while a chunk is unread), writes resolve
 * once flushed, and `close()` ends the connection once, with a TLS close_notify when nothing is
 * left to send and the handshake finished, or at once otherwise.
 */
export class TlsTransport implements Transport {
  /** The peer's address. */
  readonly remoteAddr: Deno.Addr;
  /** Resolves once the underlying socket is closed (its descriptor released). */
  readonly closed: Promise<void>;
  readonly #conn: Transport;
  readonly #tls: TLSSocket;
  /** Longest wait for a close_notify to go out before the socket is closed anyway. */
  readonly #closeMs: number;
  readonly #markClosed: () => void;
  /** Decrypted chunks not yet read; the TLS socket is paused while there are any. */
  #chunks: Uint8Array[] = [];
  #offset = 0;
  #ended = false;
  #error: unknown;
  #secure = false;
  /** The peer opened with plain text and was told to use TLS. */
  #plainText = false;
  #closing = false;
  #connClosed = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Wakes a read waiting for data, the end or an error. */
  #wake: (() => void) | undefined;
  /** Fails the write in flight when the socket closes under it. */
  #failWrite: ((err: Error) => void) | undefined;

  /** Starts serving TLS on `conn` with `context`; `closeMs` bounds a graceful close. */
  constructor(conn: Transport, context: SecureContext, closeMs: number) {
    this.#conn = conn;
    this.#closeMs = closeMs;
    this.remoteAddr = conn.remoteAddr;
    const { promise, resolve } = Promise.withResolvers<void>();
    this.closed = promise;
    this.#markClosed = resolve;
    this.#tls = new TLSSocket(this.#rawStream(), {
      isServer: true,
      secureContext: context,
    });
    this.#tls.on("data", (chunk: Uint8Array) => {
      this.#chunks.push(chunk);
      this.#tls.pause();
      this.#wakeReader();
    });
    this.#tls.on("end", () => {
      this.#ended = true;
      this.#wakeReader();
    });
    this.#tls.on("error", (err: Error) => {
      this.#error ??= err;
      this.#wakeReader();
    });
    this.#tls.on("close", () => this.#destroy());
  }

  /**
   * Waits for the TLS handshake, at most `ms`. Rejects with a {@link TlsHandshakeError} (the
   * connection closed by then) when it fails, the peer leaves, or the time runs out.
   */
  handshake(ms: number): Promise<void> {
    const tls = this.#tls;
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        tls.off("secure", onSecure).off("error", onError).off("close", onClose);
      };
      const fail = (message: string, cause?: unknown) => {
        done();
        this.#destroy();
        reject(new TlsHandshakeError(message, { cause }));
      };
      const onSecure = () => {
        done();
        this.#secure = true;
        resolve();
      };
      const onError = (err: Error) => fail(`TLS handshake failed: ${err.message}`, err);
      const onClose = () =>
        fail(
          this.#plainText
            ? "plain text on the TLS port; told to connect with TLS"
            : "closed before the TLS handshake finished",
        );
      const timer = setTimeout(() => fail(`no TLS handshake within ${ms / 1000} s`), ms);
      tls.on("secure", onSecure).on("error", onError).on("close", onClose);
    });
  }

  /** Reads decrypted bytes into `buf`; null at the end. Throws the socket's error, if any. */
  async read(buf: Uint8Array): Promise<number | null> {
    for (;;) {
      if (this.#chunks.length > 0) return this.#take(buf);
      if (this.#closing) throw new Deno.errors.BadResource("the connection is closed");
      if (this.#error !== undefined) throw this.#error;
      if (this.#ended) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }

  /** Writes all of `bytes`; resolves with their length once they are flushed. */
  write(bytes: Uint8Array): Promise<number> {
    if (this.#closing) {
      return Promise.reject(new Deno.errors.BadResource("the connection is closed"));
    }
    return new Promise((resolve, reject) => {
      this.#failWrite = reject;
      this.#tls.write(bytes, (err?: Error | null) => {
        this.#failWrite = undefined;
        if (err) reject(err);
        else resolve(bytes.length);
      });
    });
  }

  /** Ends the connection, once: a close_notify first when it is cheap, then the socket closes. */
  close(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.#wakeReader();
    if (this.#secure && !this.#connClosed && this.#tls.writableLength === 0) {
      this.#closeTimer = setTimeout(() => this.#destroy(), this.#closeMs);
      // Once the close_notify is written: node:tls would wait for the peer to end its side.
      this.#tls.end(() => this.#destroy());
    } else {
      this.#destroy();
    }
  }

  /** Copies as much of the unread chunks as fits into `buf`; resumes the socket once empty. */
  #take(buf: Uint8Array): number {
    let n = 0;
    while (n < buf.length && this.#chunks.length > 0) {
      const chunk = this.#chunks[0];
      const part = chunk.subarray(this.#offset, this.#offset + buf.length - n);
      buf.set(part, n);
      n += part.length;
      this.#offset += part.length;
      if (this.#offset === chunk.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    if (this.#chunks.length === 0) this.#tls.resume();
    return n;
  }

  #wakeReader(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  /**
   * The ciphertext stream node:tls runs over: the Deno.Conn, read with backpressure. A first
   * byte that does not open a TLS handshake gets {@link PLAIN_TEXT_REPLY} in plain text.
   */
  #rawStream(): Duplex {
    const conn = this.#conn;
    const buf = new Uint8Array(READ_BUFFER_BYTES);
    const closeConn = () => this.#closeConn();
    // node:tls does not notice the end of its stream before the handshake: close it here.
    const ended = (stream: Duplex) => this.#secure ? stream.push(null) : this.#destroy();
    let first = true;
    const plainText = (n: number) => {
      const opened = first;
      first = false;
      return opened && n > 0 && buf[0] !== TLS_HANDSHAKE_RECORD;
    };
    const answerPlainText = () => {
      this.#plainText = true;
      const reply = new TextEncoder().encode(`${PLAIN_TEXT_REPLY}\r\n`);
      writeAll(conn, reply).catch(() => {}).finally(() => this.#destroy());
    };
    return new Duplex({
      read() {
        conn.read(buf).then(
          (n) =>
            n === null
              ? ended(this)
              : plainText(n)
              ? answerPlainText()
              : this.push(buf.slice(0, n)),
          (err) => this.destroy(err),
        );
      },
      write(chunk: Uint8Array, _encoding, callback) {
        writeAll(conn, chunk).then(() => callback(), callback);
      },
      final(callback) {
        closeConn();
        callback();
      },
      destroy(err, callback) {
        closeConn();
        callback(err);
      },
    });
  }

  /** Closes everything now, once: the socket, the TLS state, any write in flight. */
  #destroy(): void {
    this.#closing = true;
    this.#closeConn();
    this.#tls.destroy();
    this.#wakeReader();
  }

  /** Closes the Deno.Conn, once; its descriptor is released at once. */
  #closeConn(): void {
    if (this.#connClosed) return;
    this.#connClosed = true;
    clearTimeout(this.#closeTimer);
    try {
      this.#conn.close();
    } catch {
      // Closed by the runtime already.
    }
    this.#failWrite?.(new Deno.errors.BadResource("the connection is closed"));
    this.#failWrite = undefined;
    this.#markClosed();
  }
}

async function writeAll(conn: Transport, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}
