/**
 * `cnishim install` and `cnishim uninstall` on a node, as a DaemonSet's
 * container sees it (the node's dirs mounted under `/host`): the payload
 * is copied into the host bin dir, then `00-cnishim.conflist` is written
 * into the host conf dir once a primary network is there, naming the
 * primary's `cniVersion` and the node's paths.
 *
 * Every write is a temp file in the same directory, synced, then renamed:
 * a runtime executing the old binary keeps its inode (no "Text file busy",
 * as `cp` over it gives), and a runtime reading the conf dir sees the old
 * file or the new one, never half. What was written is listed, before it
 * is written, in the manifest `.cnishim-install.json` of the host bin dir,
 * so that uninstall removes those names and nothing else, even after a
 * crash between steps. A run with nothing to change writes nothing: a
 * restarting pod does not churn the runtime's config.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError, errorText } from "../spec/errors.ts";
import { fileNameProblem } from "../spec/identifiers.ts";
import { isJsonObject, tryParseJson } from "../spec/json.ts";
import { dirName, joinPath } from "../spec/posix_path.ts";
import { replaceFile } from "../cache/atomic_write.ts";
import type { Logger } from "../log/logger.ts";
import {
  type LoadedNetworks,
  loadNetworks,
  SELF_TYPE,
} from "../config/load_networks.ts";
import { type Payload, readPayload } from "./payload.ts";

/** The runtime's first file: `00-` sorts before every primary CNI's. */
export const CONFLIST_NAME = "00-cnishim.conflist";

/** What install wrote, in the host bin dir. */
export const INSTALL_MANIFEST = ".cnishim-install.json";

/** The capabilities the front end takes (the front-end plugin's list). */
export const FRONT_END_CAPABILITIES: Readonly<Record<string, boolean>> = {
  portMappings: true,
  bandwidth: true,
  ips: true,
  mac: true,
  dns: true,
  "io.kubernetes.cri.pod-annotations": true,
};

// Temp files of this module: `.cnishim-<name>.<uuid>.tmp`. Not a config
// extension, so no runtime loads one from the conf dir.
const TEMP = /^\.cnishim-.*\.[0-9a-f-]{36}\.tmp$/;

/** Options of install, uninstall and the check. */
export interface InstallOptions {
  /** The image's payload dir (files and `payload.json`). */
  payloadDir: string;
  /** The node's CNI bin dir, as this process sees it. */
  hostBinDir: string;
  /** The node's CNI conf dir, as this process sees it. */
  hostConfDir: string;
  /** The node's CNI conf dir as the node sees it: the conflist's `confDir`. */
  nodeConfDir: string;
  /** The conflist's `cacheDir`, when not the front end's default. */
  nodeCacheDir?: string;
  /** Thick mode: the conflist's `socket` (cnishim serve's). */
  socket?: string;
  /** How long to wait for a primary network. */
  waitPrimaryMs: number;
  /** How often a waiting install says so. @default {10000} */
  progressEveryMs?: number;
  /** How often the conf dir is looked at while waiting or watching. @default {1000} */
  pollMs?: number;
  /** Where progress and changes are logged. */
  logger: Logger;
  /** Ends a wait or the watch. */
  signal?: AbortSignal;
}

/** The primary network the conflist follows. */
export interface PrimaryNetwork {
  /** Its name. */
  name: string;
  /** Its file. */
  file: string;
  /** Its cniVersion, which the conflist takes. */
  cniVersion: string;
}

/** What one install did. */
export interface InstallReport {
  /** The payload files and whether each was (re)written. */
  files: { name: string; path: string; written: boolean }[];
  /** The conflist. */
  conflist: { path: string; written: boolean };
  /** The primary network it follows. */
  primary: PrimaryNetwork;
}

interface Manifest {
  files: string[];
  conflist: boolean;
}

/** The conflist's text for `primary`. */
export function conflistText(
  primary: PrimaryNetwork,
  nodeBinDir: string,
  options: Pick<InstallOptions, "nodeConfDir" | "nodeCacheDir" | "socket">,
): string {
  const plugin: Record<string, unknown> = {
    // The type the conf-dir loader skips: the front end never calls itself.
    type: SELF_TYPE,
    confDir: options.nodeConfDir,
    binDir: nodeBinDir,
    ...(options.nodeCacheDir ? { cacheDir: options.nodeCacheDir } : {}),
    ...(options.socket ? { socket: options.socket } : {}),
    capabilities: FRONT_END_CAPABILITIES,
  };
  return JSON.stringify(
    { cniVersion: primary.cniVersion, name: "cnishim", plugins: [plugin] },
    null,
    2,
  ) + "\n";
}

/** The primary network of `loaded` (cnishim's own file is never one). */
function primaryOf(loaded: LoadedNetworks): PrimaryNetwork | undefined {
  const n = loaded.defaultNetwork;
  return n && { name: n.name, file: n.source ?? "", cniVersion: n.cniVersion };
}

/** Why `loaded` has no primary network, in one line. */
function noPrimaryReason(dir: string, loaded: LoadedNetworks): string {
  if (loaded.confDirMissing) return `${dir} does not exist`;
  const others = loaded.skipped.filter((s) =>
    !s.file.endsWith(`/${CONFLIST_NAME}`)
  );
  return others.length
    ? `no valid network; skipped: ${
      others.map((s) => `${s.file} (${s.reason})`).join("; ")
    }`
    : `no network config in ${dir} but cnishim's`;
}

/**
 * Installs once: the payload, then (after waiting for a primary network,
 * at most `waitPrimaryMs`) the conflist.
 *
 * @throws {CniError} code 50 when no primary network came in time, 5 on I/O
 */
export async function install(options: InstallOptions): Promise<InstallReport> {
  const payload = await readPayload(options.payloadDir);
  await sweepTemps(options.hostBinDir);
  await sweepTemps(options.hostConfDir);
  const manifest = await manifestOrEmpty(options.hostBinDir);
  const files: InstallReport["files"] = [];
  for (const f of payload.files) {
    const from = f.source;
    const to = joinPath(options.hostBinDir, f.name);
    const same = await sameFile(from, to, f.mode);
    if (!same) {
      await record(options.hostBinDir, manifest, { file: f.name });
      await copyAtomic(from, to, f.mode);
      options.logger.log("notice", "install: copied", { file: to });
    }
    files.push({ name: f.name, path: to, written: !same });
  }
  const primary = await waitPrimary(options);
  const conflist = await writeConflist(options, payload, primary, manifest);
  return { files, conflist, primary };
}

/**
 * After {@link install}: keeps the conflist true until `signal` aborts,
 * and the payload's files in place.
 * A primary network renamed or replaced rewrites it (its `cniVersion`
 * followed); a primary removed removes it (no pod is handed to a front end
 * without a default network), until one comes back. Each change is logged.
 */
export async function keepConflistTrue(options: InstallOptions): Promise<void> {
  const payload = await readPayload(options.payloadDir);
  const path = joinPath(options.hostConfDir, CONFLIST_NAME);
  let last: string | undefined;
  while (!options.signal?.aborted) {
    await sleep(options.pollMs ?? 1000, options.signal);
    if (options.signal?.aborted) break;
    try {
      await restoreFiles(options, payload);
      const loaded = await loadNetworks(options.hostConfDir);
      const primary = primaryOf(loaded);
      if (!primary) {
        const why = noPrimaryReason(options.hostConfDir, loaded);
        if (await readText(path) !== undefined) {
          await Deno.remove(path);
          options.logger.log(
            "warn",
            "install: primary network gone; conflist removed until one is back",
            { file: path, why },
          );
        }
        last = undefined;
        continue;
      }
      const manifest = await manifestOrEmpty(options.hostBinDir);
      const done = await writeConflist(options, payload, primary, manifest);
      const key = `${primary.name} ${primary.file} ${primary.cniVersion}`;
      // A write is logged by writeConflist; a primary that changed file or
      // name but not the conflist is logged here.
      if (!done.written && last !== undefined && last !== key) {
        options.logger.log("notice", "install: conflist follows the primary", {
          file: path,
          primary: primary.name,
          primaryFile: primary.file,
          cniVersion: primary.cniVersion,
        });
      }
      last = key;
    } catch (error) {
      // A conf dir caught mid-change: the next round sees it settled.
      options.logger.log("warn", "install: could not check the conflist", {
        error: errorText(error),
      });
    }
  }
}

// A payload file removed or cut short on the node (a bin dir wiped, a
// primary CNI's installer cleaning up) is copied again; checked by stat
// only, so that a round costs no read of the 95 MB runtime.
async function restoreFiles(
  options: InstallOptions,
  payload: Payload,
): Promise<void> {
  for (const f of payload.files) {
    const to = joinPath(options.hostBinDir, f.name);
    const [a, b] = await Promise.all([
      Deno.stat(f.source),
      statOrUndefined(to),
    ]);
    if (b?.isFile && b.size === a.size) continue;
    const manifest = await manifestOrEmpty(options.hostBinDir);
    await record(options.hostBinDir, manifest, { file: f.name });
    await copyAtomic(f.source, to, f.mode);
    options.logger.log("warn", "install: copied again (it was gone)", {
      file: to,
    });
  }
}

/** What {@link checkInstalled} found wrong; empty when all is in place. */
export async function checkInstalled(
  options: InstallOptions,
): Promise<string[]> {
  const payload = await readPayload(options.payloadDir);
  const problems: string[] = [];
  for (const f of payload.files) {
    const to = joinPath(options.hostBinDir, f.name);
    const [a, b] = await Promise.all([
      statOrUndefined(f.source),
      statOrUndefined(to),
    ]);
    if (!b) problems.push(`${to} is missing`);
    else if (a?.size !== b.size) {
      problems.push(`${to} differs from the image's`);
    }
  }
  const path = joinPath(options.hostConfDir, CONFLIST_NAME);
  const primary = primaryOf(await loadNetworks(options.hostConfDir));
  const now = await readText(path);
  if (!primary) problems.push(`no primary network in ${options.hostConfDir}`);
  else if (now === undefined) problems.push(`${path} is not written`);
  else if (now !== conflistText(primary, payload.nodeBinDir, options)) {
    problems.push(`${path} does not follow ${primary.file}`);
  }
  return problems;
}

/** What one uninstall removed and kept. */
export interface UninstallReport {
  /** Paths removed, the conflist first. */
  removed: string[];
  /** Listed paths that were already gone. */
  absent: string[];
}

/**
 * Removes what the manifest lists: the conflist first (one unlink, so no
 * new pod is handed to cnishim), then the files, then the manifest; a
 * file of the same dirs that it does not list stays. Pods already set up
 * keep their networks, and the runtime's later DEL of them finds no
 * front end to call: run it when the node's pods are gone or moved to
 * another network, as the DaemonSet's preStop does when it is deleted.
 */
export async function uninstall(
  options: Pick<InstallOptions, "hostBinDir" | "hostConfDir" | "logger">,
): Promise<UninstallReport> {
  const report: UninstallReport = { removed: [], absent: [] };
  const manifest = await readManifest(options.hostBinDir);
  await sweepTemps(options.hostConfDir);
  await sweepTemps(options.hostBinDir);
  if (!manifest) {
    options.logger.log("notice", "uninstall: nothing was installed here", {
      manifest: joinPath(options.hostBinDir, INSTALL_MANIFEST),
    });
    return report;
  }
  const paths = [
    ...(manifest.conflist
      ? [joinPath(options.hostConfDir, CONFLIST_NAME)]
      : []),
    ...manifest.files.map((f) => joinPath(options.hostBinDir, f)),
    joinPath(options.hostBinDir, INSTALL_MANIFEST),
  ];
  for (const p of paths) {
    try {
      await Deno.remove(p);
      report.removed.push(p);
      options.logger.log("notice", "uninstall: removed", { file: p });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) {
        throw ioError(`remove "${p}"`, error);
      }
      report.absent.push(p);
    }
  }
  return report;
}

async function waitPrimary(options: InstallOptions): Promise<PrimaryNetwork> {
  const start = Date.now();
  const every = options.progressEveryMs ?? 10_000;
  let said = start;
  for (;;) {
    const loaded = await loadNetworks(options.hostConfDir);
    const primary = primaryOf(loaded);
    if (primary) return primary;
    const waited = Date.now() - start;
    const why = noPrimaryReason(options.hostConfDir, loaded);
    if (waited >= options.waitPrimaryMs || options.signal?.aborted) {
      throw new CniError(
        CNI_ERROR_CODES.pluginNotAvailable,
        `No primary network in ${options.hostConfDir} after ${
          seconds(waited)
        }: ${why} (the cluster's CNI, e.g. flannel or calico, writes one; --wait-primary sets how long to wait)`,
      );
    }
    if (Date.now() - said >= every) {
      said = Date.now();
      options.logger.log(
        "notice",
        `install: waiting for a primary network (${seconds(waited)} of ${
          seconds(options.waitPrimaryMs)
        })`,
        { confDir: options.hostConfDir, why },
      );
    }
    await sleep(
      Math.min(options.pollMs ?? 1000, options.waitPrimaryMs - waited),
      options.signal,
    );
  }
}

async function writeConflist(
  options: InstallOptions,
  payload: Payload,
  primary: PrimaryNetwork,
  manifest: Manifest,
): Promise<InstallReport["conflist"]> {
  const path = joinPath(options.hostConfDir, CONFLIST_NAME);
  const text = conflistText(primary, payload.nodeBinDir, options);
  if (await readText(path) === text) {
    if (!manifest.conflist) {
      await record(options.hostBinDir, manifest, { conflist: true });
    }
    return { path, written: false };
  }
  await record(options.hostBinDir, manifest, { conflist: true });
  await writeAtomic(path, new TextEncoder().encode(text), 0o644);
  options.logger.log("notice", "install: conflist written", {
    file: path,
    primary: primary.name,
    cniVersion: primary.cniVersion,
  });
  return { path, written: true };
}

/** Lists `add` in the manifest (before it is written), unless it is already. */
async function record(
  dir: string,
  manifest: Manifest,
  add: { file?: string; conflist?: true },
): Promise<void> {
  const files = add.file && !manifest.files.includes(add.file)
    ? [...manifest.files, add.file]
    : manifest.files;
  const conflist = manifest.conflist || add.conflist === true;
  if (files === manifest.files && conflist === manifest.conflist) return;
  manifest.files = files;
  manifest.conflist = conflist;
  await writeAtomic(
    joinPath(dir, INSTALL_MANIFEST),
    new TextEncoder().encode(JSON.stringify(manifest, null, 2) + "\n"),
    0o644,
  );
}

// What install has written so far: nothing, before its first run.
async function manifestOrEmpty(dir: string): Promise<Manifest> {
  return await readManifest(dir) ?? { files: [], conflist: false };
}

async function readManifest(dir: string): Promise<Manifest | undefined> {
  const path = joinPath(dir, INSTALL_MANIFEST);
  const text = await readText(path);
  if (text === undefined) return undefined;
  const data = tryParseJson(text);
  if (
    !isJsonObject(data) || !Array.isArray(data.files) ||
    !data.files.every((f) =>
      typeof f === "string" && fileNameProblem(f, 255) === undefined
    ) || typeof data.conflist !== "boolean"
  ) {
    throw new CniError(
      CNI_ERROR_CODES.invalidNetworkConfig,
      `${path}: not an install manifest ({"files": [names], "conflist": boolean}); remove it by hand with what it lists`,
    );
  }
  return { files: data.files as string[], conflist: data.conflist };
}

/** Whether `to` holds `from`'s bytes with `mode`. */
async function sameFile(
  from: string,
  to: string,
  mode: number,
): Promise<boolean> {
  const [a, b] = await Promise.all([Deno.stat(from), statOrUndefined(to)]);
  if (!b || !b.isFile || a.size !== b.size) return false;
  if (((b.mode ?? 0) & 0o777) !== mode) return false;
  const [da, db] = await Promise.all([digest(from), digest(to)]);
  return da === db;
}

// Streamed: the Deno runtime is ~100 MB, and install keeps running.
async function digest(path: string): Promise<string> {
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  using file = await Deno.open(path);
  const buf = new Uint8Array(1 << 20);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
  }
  return hash.digest("hex");
}

async function copyAtomic(
  from: string,
  to: string,
  mode: number,
): Promise<void> {
  using src = await Deno.open(from);
  await writeAtomic(to, src, mode);
}

/**
 * Writes `data` (bytes, or a file read to its end) to `path` through a
 * temp file in the same directory: synced, given `mode`, renamed over.
 */
async function writeAtomic(
  path: string,
  data: Uint8Array | Deno.FsFile,
  mode: number,
): Promise<void> {
  const base = path.slice(path.lastIndexOf("/") + 1);
  const tmp = joinPath(
    dirName(path),
    `.cnishim-${base}.${crypto.randomUUID()}.tmp`,
  );
  // The rename itself durable too: a node that loses power keeps one file.
  await replaceFile(path, tmp, data, { mode, syncDir: true });
}

/** Removes temp files a crashed run left in `dir`. */
async function sweepTemps(dir: string): Promise<void> {
  try {
    for await (const e of Deno.readDir(dir)) {
      if (e.isFile && TEMP.test(e.name)) {
        await Deno.remove(joinPath(dir, e.name)).catch(() => {});
      }
    }
  } catch { /* no dir yet */ }
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw ioError(`read "${path}"`, error);
  }
}

async function statOrUndefined(
  path: string,
): Promise<Deno.FileInfo | undefined> {
  try {
    return await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw ioError(`stat "${path}"`, error);
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, Math.max(0, ms));
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60}s` : `${s}s`;
}

function ioError(what: string, error: unknown): CniError {
  return new CniError(
    CNI_ERROR_CODES.ioFailure,
    `Cannot ${what}: ${errorText(error)}`,
  );
}
