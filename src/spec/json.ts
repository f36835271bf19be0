// Pure: no Deno API.
/**
 * Decoding JSON input the one way every reader does: text that is not JSON
 * is a CNI decoding failure (code 6) whose message says what was read.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError, errorText } from "./errors.ts";
import type { JsonObject } from "./types.ts";

/**
 * `JSON.parse`, with a syntax error turned into code 6: the message is
 * `what`, a colon and the parser's reason.
 *
 * @throws {CniError} code 6 when `text` is not JSON
 */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.decodingFailure,
      `${what}: ${errorText(error)}`,
      { cause: error },
    );
  }
}

/** Whether a decoded value is a JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
