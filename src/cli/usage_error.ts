// Pure: no Deno API.
/**
 * A mistake on the command line: not a CNI error, exit status 2.
 *
 * @module
 */

/** A command-line mistake; the message names the flag or argument. */
export class UsageError extends Error {
  /** The exit status. */
  readonly exitCode = 2;

  /** Makes a usage error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}
