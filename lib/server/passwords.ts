// Secrets: salted slow hashes for owned names (scrypt from node:crypto), constant-time
// comparison for the join and operator passwords, and digests to recognise a secret typed
// again. Throttling wrong tries is throttle.ts's; bounding hashes in flight is the hub's.

import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

/** scrypt cost: N = 2^14, r = 8, p = 1 (about 16 MiB and tens of ms per hash). */
const N = 16384;
const R = 8;
const P = 1;
const KEY_BYTES = 32;

function derive(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize("NFC"),
      salt,
      KEY_BYTES,
      { N: n, r, p, maxmem: 64 * 1024 * 1024 },
      (err, key) => {
        if (err) reject(err);
        else resolve(key);
      },
    );
  });
}

/**
 * A salted slow hash of `password`, as `scrypt$N$r$p$SALT$HASH` (base64 parts).
 *
 * @example
 * ```ts
 * const stored = await hashPassword("hunter2");
 * await verifyPassword("hunter2", stored); // true
 * ```
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, N, R, P);
  return ["scrypt", N, R, P, salt.toString("base64"), key.toString("base64")].join("$");
}

/** Whether `password` matches a hash made by {@link hashPassword}; constant time in the key. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !salt || !hash) return false;
  const expected = Buffer.from(hash, "base64");
  const key = await derive(password, Buffer.from(salt, "base64"), Number(n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/** Compares two secrets in constant time, whatever their lengths. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash("sha256").update(given).digest();
  const b = createHash("sha256").update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * A digest of a secret (sha256, base64), kept instead of the secret to recognise it if it
 * is typed again where it would be shown to others.
 */
export function secretDigest(secret: string): string {
  return createHash("sha256").update(secret).digest("base64");
}
