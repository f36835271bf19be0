/**
 * The `--socket` client: one operation sent to `cnishim serve`, the CLI's
 * output and exit status back. This is the path a runtime pays per pod, so
 * it speaks just enough HTTP/1.1 over a plain unix connection (`fetch`
 * would cost an HTTP client's set-up per process) and imports nothing
 * else of the shim.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError, errorText } from "../spec/errors.ts";
import {
  API_PREFIX,
  CNI_OPERATION,
  decodeStderr,
  encodeCniRequest,
  EXIT_CODE_HEADER,
  type ServeReply,
  type ServeRequest,
  STDERR_HEADER,
} from "./protocol.ts";
import { isJsonObject, tryParseJson } from "../spec/json.ts";

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
const CRLF2 = [13, 10, 13, 10];

/**
 * Sends one operation to the server on `socket` and returns what the CLI
 * would have printed. The operation runs to its end on the server even if
 * this process goes away.
 *
 * @throws {CniError} code 11 when no server accepts on `socket`, code 5
 * when the answer is not a cnishim server's
 */
export async function sendRequest(
  socket: string,
  operation: string,
  request: ServeRequest,
): Promise<ServeReply> {
  const res = await exchange(
    socket,
    "POST",
    `${API_PREFIX}${operation}`,
    operation,
    ENCODER.encode(JSON.stringify(request)),
  );
  return parseResponse(socket, res);
}

/**
 * Sends one call of the front-end plugin to the server on `socket` (a
 * `cni` request): its stdout and exit status when the server ran it, or
 * why it did not (no server, refused, stopping, lost, not its call), when
 * the caller is to run it itself.
 */
export async function sendCniCall(
  socket: string,
  env: Readonly<Record<string, string>>,
  stdin: string,
): Promise<{ stdout: string; exitCode: number } | { refused: string }> {
  let res: RawResponse;
  try {
    res = await exchange(
      socket,
      "POST",
      `${API_PREFIX}${CNI_OPERATION}`,
      CNI_OPERATION,
      ENCODER.encode(encodeCniRequest(env, stdin)),
      "application/x-www-form-urlencoded",
    );
  } catch (error) {
    return { refused: errorText(error) };
  }
  const exit = res.headers.get(EXIT_CODE_HEADER);
  if ((res.status === 200 || res.status === 500) && exit !== undefined) {
    return { stdout: DECODER.decode(res.body), exitCode: Number(exit) || 0 };
  }
  const text = DECODER.decode(res.body).trim();
  let why = `HTTP ${res.status}`;
  const body = tryParseJson(text);
  if (isJsonObject(body) && typeof body.msg === "string") {
    why += `: ${body.msg}`;
  }
  return { refused: why };
}

/**
 * The metrics of the server on `socket` (`GET /metrics`), as it wrote them.
 *
 * @throws {CniError} code 11 when no server accepts on `socket`, code 5
 * when it answers no metrics (not a cnishim server, or `--no-metrics`)
 */
export async function fetchMetrics(socket: string): Promise<string> {
  const res = await exchange(socket, "GET", "/metrics", "metrics");
  if (res.status !== 200) {
    const why = res.headers.has(EXIT_CODE_HEADER)
      ? "it serves no metrics (started with --no-metrics?)"
      : `HTTP ${res.status}`;
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot read the metrics of the server at "${socket}": ${why}`,
    );
  }
  return DECODER.decode(res.body);
}

// One request on a fresh connection, the whole response back.
async function exchange(
  socket: string,
  method: "GET" | "POST",
  path: string,
  what: string,
  body?: Uint8Array,
  contentType = "application/json",
): Promise<RawResponse> {
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path: socket });
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.tryAgainLater,
      `Cannot reach cnishim serve at "${socket}": ${errorText(error)}`,
      { cause: error },
    );
  }
  try {
    const head = ENCODER.encode(
      `${method} ${path} HTTP/1.1\r\nhost: cnishim\r\n` +
        (body
          ? `content-type: ${contentType}\r\ncontent-length: ${body.length}\r\n`
          : "") +
        `connection: close\r\n\r\n`,
    );
    const out = new Uint8Array(head.length + (body?.length ?? 0));
    out.set(head);
    if (body) out.set(body, head.length);
    for (let off = 0; off < out.length;) {
      off += await conn.write(out.subarray(off));
    }
    return await readResponse(conn);
  } catch (error) {
    if (error instanceof CniError) throw error;
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Lost cnishim serve at "${socket}" during ${what}: ${errorText(error)}`,
      { cause: error },
    );
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

interface RawResponse {
  status: number;
  headers: Map<string, string>;
  body: Uint8Array;
}

// Reads until the body is complete (content-length, chunked, or EOF).
async function readResponse(conn: Deno.UnixConn): Promise<RawResponse> {
  let buf = new Uint8Array(16 * 1024);
  let len = 0;
  let eof = false;
  const more = async () => {
    if (len === buf.length) {
      const bigger = new Uint8Array(buf.length * 2);
      bigger.set(buf);
      buf = bigger;
    }
    const n = await conn.read(buf.subarray(len));
    if (n === null) eof = true;
    else len += n;
  };
  let headEnd = -1;
  while (headEnd === -1) {
    if (eof) throw new Error("connection closed before the response header");
    await more();
    headEnd = indexOf(buf.subarray(0, len), CRLF2);
  }
  const lines = DECODER.decode(buf.subarray(0, headEnd)).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1]);
  if (!status) throw new Error(`not an HTTP response: "${lines[0]}"`);
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) {
      headers.set(
        line.slice(0, i).trim().toLowerCase(),
        line.slice(i + 1).trim(),
      );
    }
  }
  const start = headEnd + 4;
  const length = headers.get("content-length");
  if (length !== undefined) {
    const end = start + Number(length);
    while (len < end && !eof) await more();
    if (len < end) throw new Error("connection closed inside the body");
    return { status, headers, body: buf.slice(start, end) };
  }
  while (!eof) await more();
  const raw = buf.subarray(start, len);
  return {
    status,
    headers,
    body: /chunked/i.test(headers.get("transfer-encoding") ?? "")
      ? dechunk(raw)
      : raw.slice(),
  };
}

function parseResponse(socket: string, res: RawResponse): ServeReply {
  const exit = res.headers.get(EXIT_CODE_HEADER);
  if (exit === undefined || !/^\d+$/.test(exit)) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `The server at "${socket}" is not cnishim serve: HTTP ${res.status} without a ${EXIT_CODE_HEADER} header`,
    );
  }
  const exitCode = Number(exit);
  return {
    exitCode,
    // A usage error's body explains it to HTTP clients; the CLI prints
    // nothing on stdout for one (its stderr says it).
    stdout: exitCode === 2 ? "" : DECODER.decode(res.body),
    stderr: decodeStderr(res.headers.get(STDERR_HEADER)),
  };
}

function dechunk(raw: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let off = 0;
  for (;;) {
    const eol = indexOf(raw.subarray(off), [13, 10]);
    if (eol === -1) break;
    const size = parseInt(DECODER.decode(raw.subarray(off, off + eol)), 16);
    off += eol + 2;
    if (!size) break;
    parts.push(raw.subarray(off, off + size));
    off += size + 2;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function indexOf(hay: Uint8Array, needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}
