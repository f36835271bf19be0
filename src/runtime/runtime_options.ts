/**
 * What the pod-level verbs need: the engine's options plus where networks
 * come from and how they are attached (go-cni's instance options).
 *
 * @module
 */
import {
  type EngineOptions,
  type ResolvedEngineOptions,
  resolveEngineOptions,
} from "../engine/engine_options.ts";
import { type Logger, SILENT_LOGGER } from "../log/logger.ts";
import type { LoadedNetworks } from "../config/load_networks.ts";
import { DEFAULT_CONF_DIR } from "../spec/defaults.ts";

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

/** {@link RuntimeOptions} with the defaults filled in, and the engine's resolved. */
export interface ResolvedRuntimeOptions extends RuntimeOptions {
  /** Where network configs live. */
  readonly confDir: string;
  /** `"cni"` attaches CNI networks; `""` gives pods loopback only. */
  readonly networkPlugin: "cni" | "";
  /** Bring `lo` up with the `loopback` plugin when it is installed. */
  readonly loopback: boolean;
  /** Attach networks one after the other instead of in parallel. */
  readonly serial: boolean;
  /** Where progress and warnings go. */
  readonly logger: Logger;
  /** The engine's options, resolved once for the whole pod verb. */
  readonly engine: ResolvedEngineOptions;
}

/**
 * Fills in the defaults of a pod verb, as {@link resolveEngineOptions}
 * does the engine's (which it calls once: every engine verb of the pod
 * then shares its plugin look-ups).
 */
export function resolveRuntimeOptions(
  options: RuntimeOptions = {},
): ResolvedRuntimeOptions {
  return {
    ...options,
    confDir: options.confDir ?? DEFAULT_CONF_DIR,
    networkPlugin: options.networkPlugin ?? "cni",
    loopback: options.loopback !== false,
    serial: options.serial === true,
    logger: options.logger ?? SILENT_LOGGER,
    engine: resolveEngineOptions(options),
  };
}

/** The name of the built-in loopback network (go-cni's). */
export const LOOPBACK_NETWORK = "cni-loopback";
