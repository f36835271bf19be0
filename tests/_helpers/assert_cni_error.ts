/**
 * The one check of a thrown CNI error: its class, its code, a mention of
 * what was wrong, and the message grammar (capital first, no final period).
 *
 * @module
 */
import { equal, ok, throws } from "node:assert/strict";
import { CniError } from "../../src/spec/errors.ts";

/** Asserts that `fn` throws a {@link CniError} of `code` mentioning `mention`. */
export function assertCniError(
  fn: () => unknown,
  code: number,
  mention: string,
): void {
  throws(fn, (error: unknown) => {
    ok(error instanceof CniError, `not a CniError: ${error}`);
    equal(error.code, code, error.message);
    ok(
      error.message.includes(mention),
      `${JSON.stringify(error.message)} lacks ${JSON.stringify(mention)}`,
    );
    ok(
      /^[A-Z]/.test(error.message) && !error.message.endsWith("."),
      error.message,
    );
    return true;
  });
}
