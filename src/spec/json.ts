// Pure: no Deno API.
/**
 * Decoding JSON input the one way every reader does: text that is not JSON
 * is a CNI decoding failure (code 6) whose message says what was read, or
 * the caller's own error (a usage error, a plugin's failure), or, where
 * not-JSON only means "nothing usable", `undefined`.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError, errorText } from "./errors.ts";
import type { JsonObject } from "./types.ts";

/**
 * `JSON.parse`, with a syntax error turned into code 6 (the message is
 * `what`, a colon and the parser's reason), or into the error `what`
 * makes of the parser's reason.
 *
 * @example Usage
 * ```ts
 * import { parseJson } from "./json.ts";
 * import { deepEqual, throws } from "node:assert/strict";
 * deepEqual(parseJson('{"a":1}', "Cannot decode x"), { a: 1 });
 * throws(() => parseJson("{", "Cannot decode x"), /Cannot decode x: /);
 * throws(() => parseJson("{", (why) => new RangeError(why)), RangeError);
 * ```
 *
 * @throws {CniError} code 6 when `text` is not JSON and `what` is a text
 */
export function parseJson(
  text: string,
  what: string | ((reason: string) => Error),
): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    if (typeof what !== "string") throw what(errorText(error));
    throw new CniError(
      CNI_ERROR_CODES.decodingFailure,
      `${what}: ${errorText(error)}`,
      { cause: error },
    );
  }
}

/**
 * `JSON.parse` where text that is not JSON only means nothing usable was
 * read: `undefined` then (no JSON text decodes to it).
 *
 * @example Usage
 * ```ts
 * import { tryParseJson } from "./json.ts";
 * import { equal } from "node:assert/strict";
 * equal(tryParseJson("null"), null);
 * equal(tryParseJson("{"), undefined);
 * ```
 */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether a decoded value is a JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
