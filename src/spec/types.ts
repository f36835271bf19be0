// Pure: no Deno API.
/**
 * The CNI data model shared by every layer: network config lists, plugin
 * configs, runtime arguments and results as JSON.
 *
 * @module
 */

/** A JSON object as decoded by `JSON.parse`. */
export type JsonObject = { [key: string]: unknown };

/** One plugin of a network config list. */
export interface PluginConfig {
  /** The plugin's `type`: a bare executable name in the bin dirs. */
  readonly type: string;
  /** The plugin's own `name`, if its object had one (only used in messages). */
  readonly name?: string;
  /** The plugin object exactly as decoded, every unknown key kept. */
  readonly raw: Readonly<JsonObject>;
}

/** A parsed network configuration list (`.conflist`, or a `.conf` lifted to a list). */
export interface NetworkConfigList {
  /** The network name. */
  readonly name: string;
  /** The negotiated CNI version (see `cniVersions`); "" when the file had none. */
  readonly cniVersion: string;
  /** CHECK is skipped. */
  readonly disableCheck: boolean;
  /** GC is skipped. */
  readonly disableGC: boolean;
  /** The plugins, in ADD order. */
  readonly plugins: readonly PluginConfig[];
  /**
   * The bytes stored in the cache's `config`: the source bytes, or canonical
   * JSON when the source was JSONC or a single `.conf` (so libcni can read it).
   */
  readonly bytes: Uint8Array;
  /** The file the list came from, when there was one. */
  readonly source?: string;
}

/** A `[key, value]` pair of `CNI_ARGS`. */
export type CniArg = readonly [string, string];

/** The per-attachment arguments of a call (libcni's `RuntimeConf`). */
export interface RuntimeConf {
  /** `CNI_CONTAINERID`. */
  readonly containerId: string;
  /** `CNI_NETNS`; "" when the namespace is gone (DEL). */
  readonly netns: string;
  /** `CNI_IFNAME`. */
  readonly ifName: string;
  /** `CNI_ARGS` pairs, in order. */
  readonly args?: readonly CniArg[];
  /** Capability arguments, injected as `runtimeConfig` for declared capabilities. */
  readonly capabilityArgs?: Readonly<JsonObject>;
}

/** A CNI result of any version, as JSON; `cniVersion` says which. */
export type CniResult = JsonObject & { cniVersion?: string };

/**
 * A result of the 1.0 family (spec 1.0.0 and 1.1.0), libcni's
 * `types100.Result`: what {@link CniResult} is typed as once converted to
 * such a version. Keys the spec does not define stay, as in any result.
 */
export type Result100 = CniResult & {
  /** "1.0.0" or "1.1.0". */
  cniVersion: string;
  /** The interfaces the plugins created or used. */
  interfaces?: {
    /** The interface name. */
    name: string;
    /** Its hardware address. */
    mac?: string;
    /** Its MTU (1.1.0). */
    mtu?: number;
    /** The netns path it is in; absent for a host interface. */
    sandbox?: string;
    /** A vhost-user socket path (1.1.0). */
    socketPath?: string;
    /** A PCI device ID (1.1.0). */
    pciID?: string;
  }[];
  /** The addresses assigned. */
  ips?: {
    /** An address in CIDR notation. */
    address: string;
    /** Its default gateway. */
    gateway?: string;
    /** The index into `interfaces` it belongs to. */
    interface?: number;
  }[];
  /** The routes installed. */
  routes?: {
    /** The destination, in CIDR notation. */
    dst: string;
    /** The next hop; absent for the default gateway. */
    gw?: string;
    /** The route's MTU (1.1.0). */
    mtu?: number;
    /** The TCP advertised MSS (1.1.0). */
    advmss?: number;
    /** The route's priority (1.1.0). */
    priority?: number;
    /** The routing table (1.1.0). */
    table?: number;
    /** The route's scope (1.1.0). */
    scope?: number;
  }[];
  /** The DNS settings the plugins ask for. */
  dns?: {
    /** Name servers, by priority. */
    nameservers?: string[];
    /** The local domain. */
    domain?: string;
    /** Search domains, by priority. */
    search?: string[];
    /** Resolver options. */
    options?: string[];
  };
};

/** One still-valid attachment, as sent in `cni.dev/valid-attachments`. */
export interface GcAttachment {
  /** The container ID. */
  readonly containerID: string;
  /** The interface name. */
  readonly ifname: string;
}

/**
 * The process's I/O as the shim sees it, as a command line or as a plugin:
 * injected, so that both run in-process in tests.
 */
export interface ProcessIo {
  /** Writes to stdout. */
  stdout(text: string): void;
  /** Writes to stderr. */
  stderr(text: string): void;
  /** Reads all of stdin. */
  readStdin(): Promise<string>;
  /** The process environment. */
  env: Readonly<Record<string, string>>;
}
