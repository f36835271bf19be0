/**
 * The networks an operation works with: the caller's set (`cnishim serve`
 * keeps one warm) or a scan of the conf dir.
 *
 * @module
 */
import { type LoadedNetworks, loadNetworks } from "../config/load_networks.ts";
import type { RuntimeOptions } from "./runtime_options.ts";
import { DEFAULT_CONF_DIR } from "../spec/defaults.ts";

/**
 * A scan stops once the default network and every name in `stopWhenFound`
 * are found (a cold ADD needs no more); a warm set is used as it is.
 */
export function confNetworks(
  options: RuntimeOptions,
  stopWhenFound?: readonly string[],
): Promise<LoadedNetworks> {
  return options.networks?.() ??
    loadNetworks(
      options.confDir ?? DEFAULT_CONF_DIR,
      stopWhenFound ? { stopWhenFound } : {},
    );
}
