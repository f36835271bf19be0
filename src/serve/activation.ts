// Pure: no Deno API.
/**
 * systemd's socket activation protocol (`sd_listen_fds`): the listening
 * sockets are descriptors from 3 on, `LISTEN_FDS` of them, meant for the
 * process whose pid is `LISTEN_PID`. Reading them is the caller's; the
 * entry point removes the variables from the process environment so that
 * nothing started later takes them for its own.
 *
 * @module
 */
import { UsageError } from "../spec/errors.ts";

/** The first passed descriptor (`SD_LISTEN_FDS_START`). */
export const LISTEN_FDS_START = 3;

/** The variables of the protocol. */
export const LISTEN_VARIABLES: readonly string[] = [
  "LISTEN_FDS",
  "LISTEN_PID",
  "LISTEN_FDNAMES",
];

/**
 * The descriptors passed to process `pid` by `env`, as `sd_listen_fds`
 * finds them: none when the variables are absent or name another pid.
 *
 * @throws {UsageError} when `LISTEN_FDS` is not a count
 *
 * @example Usage
 * ```ts
 * import { listenFds } from "./activation.ts";
 * import { deepEqual } from "node:assert/strict";
 * deepEqual(listenFds({ LISTEN_FDS: "1", LISTEN_PID: "42" }, 42), [3]);
 * deepEqual(listenFds({ LISTEN_FDS: "1", LISTEN_PID: "7" }, 42), []);
 * ```
 */
export function listenFds(
  env: Readonly<Record<string, string>>,
  pid: number,
): number[] {
  const pidText = env.LISTEN_PID, count = env.LISTEN_FDS;
  if (pidText === undefined || count === undefined) return [];
  if (!/^\d+$/.test(pidText) || Number(pidText) !== pid) return [];
  if (!/^\d+$/.test(count)) {
    throw new UsageError(
      `Invalid LISTEN_FDS "${count}": socket activation passes a count`,
    );
  }
  return Array.from({ length: Number(count) }, (_, i) => LISTEN_FDS_START + i);
}
