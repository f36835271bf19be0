// Pure: no Deno API.
/**
 * The identifier checks every engine verb runs on an attachment before
 * its names reach a cache path or a plugin's environment.
 *
 * @module
 */
import type { RuntimeConf } from "../spec/types.ts";
import {
  validateContainerId,
  validateIfName,
  validateNetworkName,
} from "../spec/identifiers.ts";

/** Validates the identifiers of an attachment before they reach a path. */
export function validateAttachment(networkName: string, rt: RuntimeConf): void {
  validateNetworkName(networkName);
  validateContainerId(rt.containerId);
  validateIfName(rt.ifName);
}
