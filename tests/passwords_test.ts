import assert from "node:assert/strict";
import { hashPassword, sameSecret, verifyPassword } from "../lib/server/passwords.ts";

Deno.test("hashPassword() salts: the same password hashes differently, and verifies", async () => {
  const a = await hashPassword("correct horse");
  const b = await hashPassword("correct horse");
  assert.notEqual(a, b);
  assert.match(a, /^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
  assert.ok(!a.includes("correct horse"));
  assert.equal(await verifyPassword("correct horse", a), true);
  assert.equal(await verifyPassword("correct horse", b), true);
  assert.equal(await verifyPassword("Correct horse", a), false);
  assert.equal(await verifyPassword("", a), false);
  assert.equal(await verifyPassword("x", "not a hash"), false);
});

Deno.test("sameSecret() compares secrets of any length", () => {
  assert.equal(sameSecret("s3cret", "s3cret"), true);
  assert.equal(sameSecret("s3cret", "s3cre"), false);
  assert.equal(sameSecret("", "x"), false);
  assert.equal(sameSecret("é", "é"), true);
});
