/**
 * The networks an operation works with: the caller's set (`cnishim serve`
 * keeps one warm) or a scan of the conf dir.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import {
  type LoadedNetworks,
  loadNetworks,
  type SkippedFile,
} from "../config/load_networks.ts";
import type { ResolvedRuntimeOptions } from "./runtime_options.ts";

/** Where the networks come from: the resolved conf dir, or the caller's set. */
export type NetworkSource = Pick<
  ResolvedRuntimeOptions,
  "confDir" | "networks"
>;

/**
 * A scan stops once the default network and every name in `stopWhenFound`
 * are found (a cold ADD needs no more); a warm set is used as it is.
 */
export function confNetworks(
  options: NetworkSource,
  stopWhenFound?: readonly string[],
): Promise<LoadedNetworks> {
  return options.networks?.() ??
    loadNetworks(
      options.confDir,
      stopWhenFound ? { stopWhenFound } : {},
    );
}

/**
 * The networks of the conf dir, refusing a conf dir that does not exist:
 * what ADD and `cnishim networks` need (a teardown or GC goes on without).
 *
 * @throws {CniError} code 11 naming the missing directory (a network
 * add-on may not have written it yet)
 */
export async function requireConfNetworks(
  options: NetworkSource,
  stopWhenFound?: readonly string[],
): Promise<LoadedNetworks> {
  const loaded = await confNetworks(options, stopWhenFound);
  if (loaded.confDirMissing) throw confDirMissing(options);
  return loaded;
}

/** The error, and the status reason, of a conf dir that does not exist. */
export function confDirMissing(options: NetworkSource): CniError {
  const dir = options.confDir;
  return new CniError(
    CNI_ERROR_CODES.tryAgainLater,
    `Cannot load the network configs: the conf dir "${dir}" does not exist`,
    { details: dir },
  );
}

/** The error of a conf dir without any valid network (code 11). */
export function noValidNetwork(
  options: NetworkSource,
  skipped: readonly SkippedFile[],
): CniError {
  const dir = options.confDir;
  return new CniError(
    CNI_ERROR_CODES.tryAgainLater,
    `Cannot set up the pod network: no valid network config in "${dir}"${
      skipped.length
        ? ` (skipped: ${
          skipped.map((s) => `${s.file}: ${s.reason}`).join("; ")
        })`
        : ""
    }`,
  );
}
