// Pure: no Deno API.
/**
 * What the translators of pod inputs share: one error shape for a bad
 * value (code 7, naming where it was) and one way to show the value.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import { parseJson } from "../spec/json.ts";

/** A bad input: code 7, `Invalid <where>: <why>`. */
export function invalid(where: string, why: string): CniError {
  return new CniError(
    CNI_ERROR_CODES.invalidNetworkConfig,
    `Invalid ${where}: ${why}`,
  );
}

/** A value as a message shows it: strings quoted, containers by kind. */
export function show(value: unknown): string {
  if (Array.isArray(value)) return "an array";
  if (value && typeof value === "object") return "an object";
  return typeof value === "string"
    ? JSON.stringify(value)
    : `"${String(value)}"`;
}

/** The value itself, or the JSON a string holds (code 6 naming `source`). */
export function decoded(value: unknown, source: string): unknown {
  return typeof value === "string"
    ? parseJson(value, `Cannot decode ${source}`)
    : value;
}
