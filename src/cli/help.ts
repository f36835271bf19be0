// Pure: no Deno API.
/**
 * The command line's flags, in one table that drives the parser, `--help`
 * and the man page, and the `--help` text (commands from the command
 * table).
 *
 * @module
 */
import type { FlagSpec } from "./flags.ts";
import { COMMANDS } from "./command_table.ts";

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

/** A setting's value when its flag is not given, and where it comes from. */
export interface EffectiveDefault {
  /** The value (a list is shown `:`-joined). */
  value: unknown;
  /** `CNISHIM_…` or `"key" in FILE`. */
  from: string;
}

/**
 * The `--help` text. `effective` holds the settings whose default here is
 * not the built-in one (from the environment or the config file): they are
 * shown with their source. `note` is one line shown under the flags (why
 * the config file could not be read).
 */
export function renderHelp(
  effective: Readonly<Record<string, EffectiveDefault>> = {},
  note?: string,
): string {
  const width = Math.max(...FLAGS.map((f) => flagLabel(f).length));
  return [
    "cnishim — the CNI front end a container runtime runs per pod sandbox",
    "",
    "Usage: cnishim <command> [arguments] [flags]",
    "",
    "Commands:",
    ...COMMANDS.map((c) =>
      `  ${`${c.name} ${c.args}`.padEnd(44)} ${c.summary}`
    ),
    "",
    "Flags (before or after the command; flag > CNISHIM_<FLAG> env > config file > default):",
    ...FLAGS.map((f) =>
      `  ${flagLabel(f).padEnd(width)}  ${flagHelp(f, effective[f.name])}`
    ),
    ...(note ? ["", note] : []),
    "",
    "Output: JSON on stdout (a CNI error object on failure), messages on stderr.",
    "Exit status: 0 success, 1 CNI error (code in the error object), 2 usage error, 3 output lost (stdout or stderr could not be written; the operation itself may have succeeded, as one stderr line says when it can).",
    "Plugin mode: with CNI_COMMAND set, cnishim acts as a CNI plugin instead.",
    "",
  ].join("\n");
}

function flagHelp(f: FlagSpec, effective?: EffectiveDefault): string {
  if (!effective) return f.help;
  const v = effective.value;
  const shown = Array.isArray(v)
    ? v.join(":")
    : typeof v === "string"
    ? v
    : JSON.stringify(v);
  const text = `[default: ${
    shown === "" ? '""' : shown
  }, from ${effective.from}]`;
  return /\[default: [^\]]*\]/.test(f.help)
    ? f.help.replace(/\[default: [^\]]*\]/, () => text)
    : `${f.help} ${text}`;
}

function flagLabel(f: FlagSpec): string {
  return `--${f.name}${f.value ? ` ${f.value}` : ""}`;
}
