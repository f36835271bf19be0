// Pure: no Deno API.
/**
 * The one place a failure becomes output, for the command line and for
 * `cnishim serve`, which answers exactly as the command line would: a CNI
 * error object on stdout and one line on stderr (exit 1), a usage error on
 * stderr only (exit 2), anything else as code 999 with its stack (a bug).
 *
 * @module
 */
import {
  CNI_ERROR_CODES,
  CniError,
  type CniErrorObject,
  toCniError,
  UsageError,
} from "./errors.ts";
import { CURRENT_VERSION } from "./version.ts";

/**
 * The exit status of a command whose output could not be written (stdout
 * or stderr on a full disk or a closed pipe): whatever the command did is
 * done, only its report is lost.
 */
export const OUTPUT_LOST_EXIT_CODE = 3;

/** What a front end prints for a failure, and the error behind it. */
export interface RenderedFailure {
  /** For stdout: the error object of a CNI error; nothing for a usage error. */
  stdout: string;
  /** For stderr: one line, then the usage hint or a bug's stack. */
  stderr: string;
  /** 1 for a CNI error, 2 for a usage error. */
  exitCode: number;
  /**
   * The error object; a usage error's has code 4 (the caller's arguments
   * are wrong) and is what an HTTP client of `cnishim serve` gets.
   */
  error: CniErrorObject;
}

/**
 * Renders anything thrown as the command line prints it.
 *
 * @example Usage
 * ```ts
 * import { renderFailure } from "./render_failure.ts";
 * import { CniError } from "./errors.ts";
 * import { equal } from "node:assert/strict";
 * const out = renderFailure(new CniError(11, "Backend busy"));
 * equal(out.exitCode, 1);
 * equal(JSON.parse(out.stdout).code, 11);
 * equal(out.stderr, "cnishim: Backend busy (CNI error code 11)\n");
 * ```
 */
export function renderFailure(error: unknown): RenderedFailure {
  if (error instanceof UsageError) {
    return {
      stdout: "",
      stderr: `cnishim: ${error.message}\nRun "cnishim --help" for usage.\n`,
      exitCode: error.exitCode,
      error: {
        cniVersion: CURRENT_VERSION,
        code: CNI_ERROR_CODES.invalidEnvironmentVariables,
        msg: error.message,
      },
    };
  }
  const e = toCniError(error);
  const object: CniErrorObject = { cniVersion: CURRENT_VERSION, ...e.toJSON() };
  let stderr = `cnishim: ${e.message} (CNI error code ${e.code})\n`;
  // A plugin's own 999 (skel's generic code) is not a bug of the shim.
  if (
    e.code === CNI_ERROR_CODES.internal && !(error instanceof CniError) &&
    error instanceof Error && error.stack
  ) {
    stderr += `${error.stack}\n`;
  }
  return {
    stdout: JSON.stringify(object, null, 2) + "\n",
    stderr,
    exitCode: 1,
    error: object,
  };
}
