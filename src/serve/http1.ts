/**
 * The HTTP/1.1 that `cnishim serve` speaks on a connection, owned here
 * rather than left to `Deno.serve`, which has no header, idle or body
 * limits to set: a request head must arrive whole within a deadline and a
 * size, its body within another and under a cap, a kept-alive connection
 * may idle only so long, and what breaks a limit is answered (408, 413,
 * 431, 400) and the connection closed. Requests are what cnishim's
 * clients send (`content-length` or `chunked` bodies, `expect:
 * 100-continue` from curl, keep-alive from fetch); answers always carry
 * a `content-length`.
 *
 * @module
 */

/** A byte stream both ways: a `Deno.Conn`, or an adapted node socket. */
export interface ByteConn {
  /** Reads into `p`; `null` at EOF. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes some of `p`; the count written. */
  write(p: Uint8Array): Promise<number>;
  /** Ends the writing side (the peer reads EOF after what was written). */
  closeWrite(): Promise<void>;
  /** Closes both ways; closing twice is harmless to the caller. */
  close(): void;
}

/** The limits of one connection. */
export interface Http1Limits {
  /** Most bytes of a request head (request line and headers). */
  maxHeaderBytes: number;
  /** Most bytes of a request body. */
  maxBodyBytes: number;
  /** From the connection or the first byte of a request to the end of its head. */
  headerTimeoutMs: number;
  /** From the end of the head to the end of the body. */
  bodyTimeoutMs: number;
  /** How long a connection may wait, without a byte, for its next request. */
  idleTimeoutMs: number;
}

/** A limit a request broke, as answered. */
export interface Refusal {
  /** The HTTP status. */
  status: 400 | 408 | 413 | 431 | 501;
  /** Why, for the error body. */
  message: string;
}

/** One request whose head arrived: answered through it. */
export interface Exchange {
  /** The answer to the whole request. */
  handle(request: Request): Promise<Response>;
  /** Called once the answer is written, or the exchange failed. */
  done(): void;
}

/** What a connection needs from the server. */
export interface Http1Hooks {
  /** A request's head arrived. */
  open(): Exchange;
  /** The answer to a broken limit (the connection is closed after it). */
  refuse(refusal: Refusal): Response;
  /** False once the server stops: answers then close their connection. */
  keepAlive(): boolean;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder();
const CRLF = [13, 10];
const CRLF2 = [13, 10, 13, 10];
const REASONS: Record<number, string> = {
  100: "Continue",
  200: "OK",
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  421: "Misdirected Request",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  503: "Service Unavailable",
};

class Timeout extends Error {}
class Broken extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
  }
}

// The bytes read from a connection and not consumed yet, with a deadline
// that closes the connection when it passes.
class Reader {
  buf: Uint8Array<ArrayBuffer> = new Uint8Array(4096);
  len = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  timedOut = false;
  constructor(private readonly conn: ByteConn) {}

  deadline(ms: number | undefined): void {
    clearTimeout(this.#timer);
    this.#timer = ms === undefined ? undefined : setTimeout(() => {
      this.timedOut = true;
      this.conn.close();
    }, ms);
  }

  // Reads more, at most `cap` bytes held; false at EOF.
  async more(cap: number): Promise<boolean> {
    if (this.len === this.buf.length) {
      const bigger = new Uint8Array(Math.min(this.buf.length * 2, cap + 1));
      if (bigger.length <= this.len) return true; // full: the caller refuses
      bigger.set(this.buf.subarray(0, this.len));
      this.buf = bigger;
    }
    let n: number | null;
    try {
      n = await this.conn.read(this.buf.subarray(this.len));
    } catch (error) {
      if (this.timedOut) throw new Timeout();
      throw error;
    }
    if (this.timedOut) throw new Timeout();
    if (n === null) return false;
    this.len += n;
    return true;
  }

  take(n: number): Uint8Array<ArrayBuffer> {
    const out = this.buf.slice(0, n);
    this.buf.copyWithin(0, n, this.len);
    this.len -= n;
    return out;
  }

  stop(): void {
    clearTimeout(this.#timer);
  }
}

/**
 * Serves requests on `conn` until it closes, a limit is broken, the client
 * asks to close or the server stops. Never throws.
 */
export async function serveConnection(
  conn: ByteConn,
  limits: Http1Limits,
  hooks: Http1Hooks,
): Promise<void> {
  const reader = new Reader(conn);
  try {
    let first = true;
    for (;;) {
      // The first request's head is due from the connection on; a later
      // one may idle before its first byte, then has the same deadline.
      if (first || reader.len > 0) reader.deadline(limits.headerTimeoutMs);
      else {
        reader.deadline(limits.idleTimeoutMs);
        if (!(await reader.more(limits.maxHeaderBytes))) return;
        reader.deadline(limits.headerTimeoutMs);
      }
      first = false;
      const head = await readHead(reader, limits);
      if (!head) return;
      const exchange = hooks.open();
      let close = !head.keepAlive;
      try {
        let response: Response;
        try {
          reader.deadline(limits.bodyTimeoutMs);
          if (head.expectContinue && head.hasBody) {
            await writeAll(
              conn,
              ENCODER.encode("HTTP/1.1 100 Continue\r\n\r\n"),
            );
          }
          const body = await readBody(reader, head, limits);
          reader.deadline(undefined);
          response = await exchange.handle(
            new Request(`http://cnishim${head.target}`, {
              method: head.method,
              headers: head.headers,
              ...(head.method === "GET" || head.method === "HEAD"
                ? {}
                : { body }),
            }),
          );
        } catch (error) {
          if (!(error instanceof Broken)) throw error;
          await refuse(conn, reader, limits, hooks.refuse(error.refusal));
          return;
        }
        close ||= !hooks.keepAlive();
        await writeResponse(conn, response, head.method === "HEAD", close);
      } finally {
        exchange.done();
      }
      if (close) return;
    }
  } catch (error) {
    if (error instanceof Broken) {
      await refuse(conn, reader, limits, hooks.refuse(error.refusal));
    } else if (error instanceof Timeout) {
      // Closed by the deadline: nothing more can be written.
    }
    // Anything else is the connection failing under us: closed below.
  } finally {
    reader.stop();
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

// Answers a broken limit and closes. What the client is still sending is
// read and dropped for a moment first: closing a unix socket with unread
// data resets it, and the client would lose the answer.
async function refuse(
  conn: ByteConn,
  reader: Reader,
  limits: Http1Limits,
  response: Response,
): Promise<void> {
  reader.deadline(Math.min(limits.headerTimeoutMs, 1000));
  try {
    await writeResponse(conn, response, false, true);
    await conn.closeWrite();
    for (let dropped = 0; dropped < 4 * 1024 * 1024;) {
      reader.len = 0;
      if (!(await reader.more(reader.buf.length))) break;
      dropped += reader.len;
    }
  } catch { /* the deadline, or the client gone: closed by the caller */ }
}

interface Head {
  method: string;
  target: string;
  headers: Headers;
  keepAlive: boolean;
  expectContinue: boolean;
  hasBody: boolean;
  length: number | undefined;
  chunked: boolean;
}

// The next request head, or undefined at a clean EOF before one.
async function readHead(
  reader: Reader,
  limits: Http1Limits,
): Promise<Head | undefined> {
  let end = indexOf(reader.buf, reader.len, CRLF2, 0);
  while (end === -1) {
    if (reader.len > limits.maxHeaderBytes) {
      throw new Broken({
        status: 431,
        message:
          `The request head is over ${limits.maxHeaderBytes} bytes (a cnishim request's is a few hundred)`,
      });
    }
    const from = Math.max(0, reader.len - 3);
    if (!(await reader.more(limits.maxHeaderBytes))) {
      if (reader.len === 0) return undefined;
      throw new Error("connection closed inside a request head");
    }
    end = indexOf(reader.buf, reader.len, CRLF2, from);
  }
  if (end > limits.maxHeaderBytes) {
    throw new Broken({
      status: 431,
      message: `The request head is over ${limits.maxHeaderBytes} bytes`,
    });
  }
  const lines = DECODER.decode(reader.take(end + 4).subarray(0, end))
    .split("\r\n");
  // Origin form, or the absolute form a client sends through a proxy
  // (fetch with a unix-socket proxy does).
  const m = /^([A-Z]+) (?:https?:\/\/[^/\s]*)?(\/\S*)? HTTP\/1\.([01])$/
    .exec(lines[0] ?? "");
  if (!m) throw bad(`Not an HTTP/1.1 request line: "${lines[0]}"`);
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i <= 0 || /^[ \t]/.test(line)) {
      throw bad(`Malformed request header line "${line}"`);
    }
    try {
      headers.append(line.slice(0, i).trim(), line.slice(i + 1).trim());
    } catch {
      throw bad(`Malformed request header line "${line}"`);
    }
  }
  const connection = headers.get("connection")?.toLowerCase() ?? "";
  const keepAlive = m[3] === "1"
    ? !/\bclose\b/.test(connection)
    : /\bkeep-alive\b/.test(connection);
  const te = headers.get("transfer-encoding");
  const cl = headers.get("content-length");
  if (te !== null && cl !== null) {
    throw bad("A request has content-length or transfer-encoding, not both");
  }
  if (te !== null && te.toLowerCase() !== "chunked") {
    throw new Broken({
      status: 501,
      message: `Transfer-encoding "${te}" is not supported (use chunked)`,
    });
  }
  let length: number | undefined;
  if (cl !== null) {
    // Repeated headers come joined by ", ": all must agree.
    const values = new Set(cl.split(",").map((v) => v.trim()));
    const only = [...values][0]!;
    if (values.size !== 1 || !/^\d{1,15}$/.test(only)) {
      throw bad(`Invalid content-length "${cl}"`);
    }
    length = Number(only);
    if (length > limits.maxBodyBytes) throw tooLarge(limits);
  }
  return {
    method: m[1]!,
    target: m[2] ?? "/",
    headers,
    keepAlive,
    expectContinue: /^100-continue$/i.test(headers.get("expect") ?? ""),
    hasBody: te !== null || (length ?? 0) > 0,
    length,
    chunked: te !== null,
  };
}

async function readBody(
  reader: Reader,
  head: Head,
  limits: Http1Limits,
): Promise<Uint8Array<ArrayBuffer>> {
  const cap = limits.maxBodyBytes + limits.maxHeaderBytes;
  if (!head.chunked) {
    const n = head.length ?? 0;
    while (reader.len < n) {
      if (!(await reader.more(Math.max(cap, n)))) {
        throw new Error("connection closed inside a request body");
      }
    }
    return reader.take(n);
  }
  const parts: Uint8Array[] = [];
  let total = 0;
  const line = async (): Promise<string> => {
    let eol = indexOf(reader.buf, reader.len, CRLF, 0);
    while (eol === -1) {
      if (reader.len > 1024) throw bad("Malformed chunk size line");
      if (!(await reader.more(cap))) {
        throw new Error("connection closed inside a chunked body");
      }
      eol = indexOf(reader.buf, reader.len, CRLF, 0);
    }
    return DECODER.decode(reader.take(eol + 2).subarray(0, eol));
  };
  for (;;) {
    const sizeText = (await line()).split(";")[0]!.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) {
      throw bad(`Malformed chunk size "${sizeText}"`);
    }
    const size = parseInt(sizeText, 16);
    if (size === 0) {
      while ((await line()) !== "") { /* trailers: ignored */ }
      break;
    }
    total += size;
    if (total > limits.maxBodyBytes) throw tooLarge(limits);
    while (reader.len < size + 2) {
      if (!(await reader.more(cap))) {
        throw new Error("connection closed inside a chunked body");
      }
    }
    parts.push(reader.take(size));
    if (DECODER.decode(reader.take(2)) !== "\r\n") {
      throw bad("A chunk does not end with CRLF");
    }
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

async function writeResponse(
  conn: ByteConn,
  response: Response,
  headOnly: boolean,
  close: boolean,
): Promise<void> {
  const body = new Uint8Array(await response.arrayBuffer());
  let head = `HTTP/1.1 ${response.status} ${
    REASONS[response.status] ?? "Unknown"
  }\r\n`;
  response.headers.forEach((value, name) => {
    if (name !== "content-length" && name !== "connection") {
      head += `${name}: ${value}\r\n`;
    }
  });
  head += `content-length: ${body.length}\r\nconnection: ${
    close ? "close" : "keep-alive"
  }\r\n\r\n`;
  const headBytes = ENCODER.encode(head);
  const out = new Uint8Array(headBytes.length + (headOnly ? 0 : body.length));
  out.set(headBytes);
  if (!headOnly) out.set(body, headBytes.length);
  await writeAll(conn, out);
}

async function writeAll(conn: ByteConn, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) {
    off += await conn.write(bytes.subarray(off));
  }
}

function bad(message: string): Broken {
  return new Broken({ status: 400, message });
}

function tooLarge(limits: Http1Limits): Broken {
  return new Broken({
    status: 413,
    message:
      `The request body is over ${limits.maxBodyBytes} bytes (a cnishim request's is a few KiB)`,
  });
}

function indexOf(
  hay: Uint8Array,
  len: number,
  needle: readonly number[],
  from: number,
): number {
  outer: for (let i = from; i + needle.length <= len; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (hay[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}
