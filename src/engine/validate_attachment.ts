/**
 * The identifier checks every engine verb runs on an attachment before
 * its names reach a cache path or a plugin's environment.
 *
 * @module
 */
import type { RuntimeConf } from "../spec/types.ts";
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import {
  MAX_FILE_NAME_BYTES,
  validateContainerId,
  validateIfName,
  validateNetworkName,
} from "../spec/identifiers.ts";
import { cacheFileName } from "../cache/cache_entry.ts";

const ENCODER = new TextEncoder();

/**
 * Validates the identifiers of an attachment before they reach a path,
 * and that its cache file name fits the file system (a 200-character
 * network name, as iSulad allows, leaves 53 bytes for container ID and
 * interface).
 *
 * @throws {CniError} code 7 (4 for a bad container ID or interface name)
 */
export function validateAttachment(networkName: string, rt: RuntimeConf): void {
  validateNetworkName(networkName);
  validateContainerId(rt.containerId);
  validateIfName(rt.ifName);
  const file = cacheFileName(networkName, rt.containerId, rt.ifName);
  const bytes = ENCODER.encode(file).length;
  if (bytes > MAX_FILE_NAME_BYTES) {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `Cannot attach network "${networkName}" to container "${rt.containerId}" (${rt.ifName}): its cache file name <network>-<container>-<ifname> would be ${bytes} bytes, over the limit of ${MAX_FILE_NAME_BYTES}; shorten the network name or the container ID`,
    );
  }
}
