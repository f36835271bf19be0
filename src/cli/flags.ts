// Pure: no Deno API.
/**
 * The command line's flags, in one table that drives the parser, `--help`
 * and the man page, and a small parser for them: `--name value`,
 * `--name=value`, repeatable flags, booleans, flags before or after the
 * command, and `--` to end flags. Unknown flags are usage errors.
 *
 * @module
 */
import { UsageError } from "../spec/errors.ts";

/** How a flag takes its value. */
export type FlagKind = "string" | "boolean" | "list";

/** One flag of the command line. */
export interface FlagSpec {
  /** The long name, without `--`. */
  name: string;
  /** Value kind: `list` flags repeat and split on `,` and `:`. */
  kind: FlagKind;
  /** Help text. */
  help: string;
  /** Placeholder of the value in help. */
  value?: string;
  /**
   * The value may be `@FILE`, standing for the file's text. Whoever parses
   * the command line reads the file: the CLI, the `--socket` client, never
   * `cnishim serve` for a request (it runs as root and must not read a
   * file on a client's say-so).
   */
  file?: true;
}

/** Every flag; global ones apply to every command. */
export const FLAGS: readonly FlagSpec[] = [
  {
    name: "config",
    kind: "string",
    value: "FILE",
    help:
      "Shim config file (JSON, the settings below by flag name; an iSulad daemon.json is read for them, its own keys ignored) [default: /etc/cnishim/config.json]",
  },
  {
    name: "cni-bin-dir",
    kind: "list",
    value: "DIRS",
    help:
      "Plugin directories, repeatable or ':'/','-separated [default: /opt/cni/bin]",
  },
  {
    name: "cni-conf-dir",
    kind: "string",
    value: "DIR",
    help: "Network config directory [default: /etc/cni/net.d]",
  },
  {
    name: "cni-cache-dir",
    kind: "string",
    value: "DIR",
    help: "Result cache directory [default: /var/lib/cni]",
  },
  {
    name: "network-plugin",
    kind: "string",
    value: "NAME",
    help: "'cni' attaches CNI networks, '' gives loopback only [default: cni]",
  },
  {
    name: "no-loopback",
    kind: "boolean",
    help: "Do not bring lo up with the loopback plugin",
  },
  {
    name: "serial",
    kind: "boolean",
    help:
      "Attach and detach networks one after the other instead of in parallel",
  },
  {
    name: "timeout",
    kind: "string",
    value: "DURATION",
    help:
      "Kill a plugin call (ADD, CHECK, STATUS, GC) after this long, e.g. 30s, 500ms [default: 60s]",
  },
  {
    name: "del-timeout",
    kind: "string",
    value: "DURATION",
    help: "The same for DEL [default: 60s]",
  },
  {
    name: "log-file",
    kind: "string",
    value: "FILE",
    help: "Append logs to this file instead of stderr",
  },
  {
    name: "log-level",
    kind: "string",
    value: "LEVEL",
    help: "debug, info, notice, warn or error [default: notice]",
  },
  {
    name: "log-format",
    kind: "string",
    value: "FORMAT",
    help:
      "'text' (time, level, message, fields) or 'json' (one object per line) [default: text]",
  },
  {
    name: "ifname",
    kind: "string",
    value: "NAME",
    help: "add: interface of the default network [default: eth0]",
  },
  {
    name: "pod-name",
    kind: "string",
    value: "NAME",
    help: "add: K8S_POD_NAME",
  },
  {
    name: "pod-namespace",
    kind: "string",
    value: "NS",
    help: "add: K8S_POD_NAMESPACE",
  },
  { name: "pod-uid", kind: "string", value: "UID", help: "add: K8S_POD_UID" },
  {
    name: "args",
    kind: "string",
    value: "K=V;K=V",
    help: "add: more CNI_ARGS pairs",
  },
  {
    name: "port-mappings",
    kind: "string",
    value: "JSON",
    help:
      "add: port mappings, CRI form (protocol 0/1/2, container_port, host_port, host_ip) or CNI form",
  },
  {
    name: "bandwidth",
    kind: "string",
    value: "JSON",
    help: "add: {ingressRate, ingressBurst, egressRate, egressBurst} in bits",
  },
  {
    name: "dns",
    kind: "string",
    value: "JSON",
    help: "add: {servers, searches, options}",
  },
  {
    name: "ip-ranges",
    kind: "string",
    value: "JSON",
    help: "add: host-local style ranges, a list of lists",
  },
  {
    name: "mac",
    kind: "string",
    value: "MAC",
    help: "add: the mac capability",
  },
  {
    name: "ips",
    kind: "string",
    value: "IPS",
    help: "add: the ips capability, comma-separated or a JSON list",
  },
  {
    name: "cgroup-path",
    kind: "string",
    value: "PATH",
    help: "add: the cgroupPath capability",
  },
  {
    name: "capabilities",
    kind: "string",
    value: "JSON",
    help: "add: any capability args, merged last",
  },
  {
    name: "annotations",
    kind: "string",
    value: "JSON|@FILE",
    file: true,
    help: "add: pod annotations (extra networks, bandwidth)",
  },
  {
    name: "output",
    kind: "string",
    value: "FORMAT",
    help:
      "add: 'json' (all networks) or 'cni' (the default network's CNI result) [default: json]",
  },
  {
    name: "keep",
    kind: "list",
    value: "ID",
    help: "gc: container IDs still in use, repeatable",
  },
  {
    name: "all",
    kind: "boolean",
    help:
      "gc: tear down every cached container (gc without --keep refuses without it)",
  },
  {
    name: "force-drop",
    kind: "list",
    value: "ID",
    help:
      "gc: drop the container's cache entries and pod record WITHOUT running DEL, for one no DEL can clear (args too big to exec, plugin gone); prints what may leak (networks, interfaces, IPs), repeatable",
  },
  {
    name: "socket",
    kind: "string",
    value: "PATH",
    help:
      "serve: listen here (mode 0660; a socket passed by systemd wins) [default: /run/cnishim/cnishim.sock]; metrics: read that server's; other commands: send the operation to that server instead of running it",
  },
  {
    name: "no-metrics",
    kind: "boolean",
    help: "serve: do not keep metrics (GET /metrics is then unknown)",
  },
  {
    name: "host-bin-dir",
    kind: "string",
    value: "DIR",
    help:
      "install, uninstall: the node's CNI bin dir as mounted here [default: /host/opt/cni/bin]",
  },
  {
    name: "host-conf-dir",
    kind: "string",
    value: "DIR",
    help:
      "install, uninstall: the node's CNI conf dir as mounted here [default: /host/etc/cni/net.d]",
  },
  {
    name: "node-conf-dir",
    kind: "string",
    value: "DIR",
    help:
      "install: the conf dir as the node sees it, the conflist's confDir [default: /etc/cni/net.d]",
  },
  {
    name: "node-cache-dir",
    kind: "string",
    value: "DIR",
    help:
      "install: the conflist's cacheDir [default: none, the front end's /var/lib/cni/cnishim]",
  },
  {
    name: "payload-dir",
    kind: "string",
    value: "DIR",
    help:
      "install: the files to copy and their payload.json [default: /usr/lib/cnishim/node]",
  },
  {
    name: "wait-primary",
    kind: "string",
    value: "DURATION",
    help:
      "install: how long to wait for a primary network, saying so every 10s [default: 10m]",
  },
  {
    name: "once",
    kind: "boolean",
    help: "install: exit once installed instead of keeping the conflist true",
  },
  {
    name: "check",
    kind: "boolean",
    help:
      "install: change nothing; exit 0 only when the files and the conflist are in place",
  },
  {
    name: "thick",
    kind: "boolean",
    help:
      "install: the conflist names --socket, so that pods go to cnishim serve (with the in-process fallback)",
  },
  { name: "help", kind: "boolean", help: "Show this help" },
  {
    name: "version",
    kind: "boolean",
    help: "Same as the version command",
  },
];

/** Parsed flags and positional arguments. */
export interface ParsedArgs {
  /** Flag values by name (strings, booleans, or string lists). */
  flags: Map<string, string | boolean | string[]>;
  /** Positional arguments, the command first. */
  positionals: string[];
}

/** Parses `argv` against `specs`. */
export function parseFlags(
  argv: readonly string[],
  specs: readonly FlagSpec[],
): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const flags = new Map<string, string | boolean | string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      flags.set("help", true);
      continue;
    }
    if (!arg.startsWith("--")) {
      if (arg.length > 1 && arg.startsWith("-")) {
        throw new UsageError(`Unknown flag "${arg}": flags take two dashes`);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`Unknown flag "--${name}"`);
    if (spec.kind === "boolean") {
      if (eq !== -1) {
        const v = arg.slice(eq + 1);
        if (v !== "true" && v !== "false") {
          throw new UsageError(
            `Flag "--${name}" takes true or false, not "${v}"`,
          );
        }
        flags.set(name, v === "true");
      } else {
        flags.set(name, true);
      }
      continue;
    }
    let value: string;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) {
        throw new UsageError(`Flag "--${name}" needs a value`);
      }
      value = argv[++i]!;
    }
    if (spec.kind === "list") {
      const prev = (flags.get(name) as string[] | undefined) ?? [];
      flags.set(name, [...prev, ...splitListValue(value)]);
    } else {
      flags.set(name, value);
    }
  }
  return { flags, positionals };
}

/** A list flag's value: `,`- or `:`-separated, empty items dropped. */
export function splitListValue(value: string): string[] {
  return value.split(/[,:]/).filter(Boolean);
}
