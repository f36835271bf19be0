// Pure: no Deno API.
/**
 * The default locations, in one place so that reading them costs no import
 * of the modules that use them.
 *
 * @module
 */

/** The default plugin directory. */
export const DEFAULT_BIN_DIR = "/opt/cni/bin";
/** libcni's default cache directory. */
export const DEFAULT_CACHE_DIR = "/var/lib/cni";
/** The default network config directory. */
export const DEFAULT_CONF_DIR = "/etc/cni/net.d";
/** The pod's interface on its default network when none is named. */
export const DEFAULT_IFNAME = "eth0";
