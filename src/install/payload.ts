/**
 * What `cnishim install` copies to a node: the payload directory of the
 * image (`/usr/lib/cnishim/node`), staged by `deno task image` from the
 * same list of files the .deb carries, and its `payload.json`, which names
 * the files and the node bin dir they were built for (the forwarder execs
 * the runtime and bundle by their path on the node).
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError, errorText } from "../spec/errors.ts";
import { fileNameProblem } from "../spec/identifiers.ts";
import { isJsonObject, parseJson } from "../spec/json.ts";
import { joinPath } from "../spec/posix_path.ts";

/** The payload directory in the image. */
export const DEFAULT_PAYLOAD_DIR = "/usr/lib/cnishim/node";

/** The payload's description, next to its files. */
export const PAYLOAD_MANIFEST = "payload.json";

/** One file of the payload. */
export interface PayloadFile {
  /** Its name, in the payload dir and in the host bin dir. */
  name: string;
  /** Its mode on the host. */
  mode: number;
  /** Where its bytes are: the file of that name in the payload dir, or this path (a file the image carries anyway, such as the Deno runtime, is not staged twice). */
  source: string;
}

/** A payload directory, read. */
export interface Payload {
  /** Where the files are. */
  dir: string;
  /** The node's bin dir the files were built for (the conflist's `binDir`). */
  nodeBinDir: string;
  /** The files, in install order (the front end the runtime execs last). */
  files: PayloadFile[];
}

// A plain file name: no path, no temp-file or manifest prefix.

/**
 * Reads `dir/payload.json`: `{"nodeBinDir": "/opt/cni/bin", "files":
 * [{"name": "cnishim-deno", "mode": 493, "from": "/usr/lib/cnishim/deno"},
 * {"name": "cnishim", "mode": 493}, …]}` (without `from`, the file is in
 * `dir`).
 *
 * @throws {CniError} code 5 when it cannot be read, 7 when it is malformed
 */
export async function readPayload(dir: string): Promise<Payload> {
  const path = joinPath(dir, PAYLOAD_MANIFEST);
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot read the payload description "${path}": ${
        errorText(error)
      } (--payload-dir names the directory the image stages)`,
    );
  }
  const bad = (why: string) =>
    new CniError(CNI_ERROR_CODES.invalidNetworkConfig, `${path}: ${why}`);
  const data = parseJson(text, (why) => bad(`not JSON: ${why}`));
  if (!isJsonObject(data)) throw bad("not a JSON object");
  const { nodeBinDir, files } = data;
  if (typeof nodeBinDir !== "string" || !nodeBinDir.startsWith("/")) {
    throw bad(`"nodeBinDir" must be an absolute path`);
  }
  if (!Array.isArray(files) || files.length === 0) {
    throw bad(`"files" must be a non-empty list`);
  }
  const out: PayloadFile[] = [];
  for (const [i, f] of files.entries()) {
    if (
      !isJsonObject(f) || typeof f.name !== "string" ||
      fileNameProblem(f.name) !== undefined ||
      typeof f.mode !== "number" || !Number.isInteger(f.mode) ||
      f.mode < 0 || f.mode > 0o777 ||
      (f.from !== undefined &&
        (typeof f.from !== "string" || !f.from.startsWith("/")))
    ) {
      throw bad(
        `"files"[${i}] must be {"name": a plain file name, "mode": 0..0o777, "from"?: an absolute path}`,
      );
    }
    if (out.some((o) => o.name === f.name)) {
      throw bad(`"files"[${i}]: "${f.name}" is listed twice`);
    }
    out.push({
      name: f.name,
      mode: f.mode,
      source: typeof f.from === "string" ? f.from : joinPath(dir, f.name),
    });
  }
  return { dir, nodeBinDir, files: out };
}
