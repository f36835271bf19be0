/**
 * What the pod-level verbs need: the engine's options plus where networks
 * come from and how they are attached (go-cni's instance options).
 *
 * @module
 */
import type { EngineOptions } from "../engine/engine_options.ts";
import type { Logger } from "../log/logger.ts";
import type { LoadedNetworks } from "../config/load_networks.ts";

/** Options of every pod verb. */
export interface RuntimeOptions extends EngineOptions {
  /**
   * Where network configs live.
   * @default {"/etc/cni/net.d"}
   */
  confDir?: string;
  /**
   * `"cni"` attaches CNI networks; `""` gives pods loopback only.
   * @default {"cni"}
   */
  networkPlugin?: "cni" | "";
  /**
   * Bring `lo` up with the `loopback` plugin when it is installed.
   * @default {true}
   */
  loopback?: boolean;
  /**
   * Attach networks one after the other instead of in parallel.
   * @default {false}
   */
  serial?: boolean;
  /** Where progress and warnings go. @default {silent} */
  logger?: Logger;
  /**
   * Supplies the networks of `confDir` instead of a fresh scan per call:
   * `cnishim serve` passes the set it keeps warm.
   * @default {a scan of confDir with loadNetworks}
   */
  networks?: () => Promise<LoadedNetworks>;
}

/** The name of the built-in loopback network (go-cni's). */
export const LOOPBACK_NETWORK = "cni-loopback";
