/**
 * The HTTP side of `cnishim serve`: a unix socket (mode 0660) serving one
 * operation per request, and a graceful stop that finishes what is in
 * flight, answers everything new with a CNI "try again later" error, then
 * removes the socket. What an operation does is the caller's (the CLI
 * passes a handler that runs its own commands), so that the server's
 * output is the CLI's by construction. Signals are the caller's too.
 *
 * @module
 */
import {
  CNI_ERROR_CODES,
  CniError,
  type CniErrorObject,
  UsageError,
} from "../spec/errors.ts";
import type { IncomingMessage, Server } from "node:http";
import { METRICS_CONTENT_TYPE } from "./metrics.ts";
import { renderFailure } from "../spec/render_failure.ts";
import { dirName } from "../spec/posix_path.ts";
import { type Logger, SILENT_LOGGER } from "../log/logger.ts";
import {
  API_PREFIX,
  encodeStderr,
  EXIT_CODE_HEADER,
  httpStatus,
  parseRequest,
  responseBody,
  type ServeReply,
  type ServeRequest,
  STDERR_HEADER,
} from "./protocol.ts";

/** Runs one operation as the CLI would. Must not throw. */
export type ServeHandler = (
  operation: string,
  request: ServeRequest,
) => Promise<ServeReply>;

/** What the server reports about each request, for metrics. */
export interface RequestObserver {
  /** A request for `operation` (`"unknown"` when not one) ended. */
  finished(
    operation: string,
    status: number,
    error: CniErrorObject | undefined,
    seconds: number,
  ): void;
}

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** The socket path (absolute); with `listenFd`, only reported. */
  socket: string;
  /**
   * An inherited listening socket (systemd socket activation): served
   * instead of binding `socket`, and left in place at the stop (its
   * owner, systemd, removes it).
   */
  listenFd?: number;
  /** `GET /metrics` answers this text; without it, `/metrics` is unknown. */
  metrics?: () => string;
  /** Told about every request. */
  observer?: RequestObserver;
  /** The operations it serves; any other is a usage error. */
  operations: readonly string[];
  /** Runs the operations. */
  handle: ServeHandler;
  /** Where the server reports itself. @default {silent} */
  logger?: Logger;
}

/** A running server. */
export interface CnishimServer {
  /** The socket it listens on. */
  readonly socket: string;
  /** Operations running now. */
  readonly inFlight: number;
  /** True once {@link stop} was called. */
  readonly stopping: boolean;
  /**
   * Refuses new operations, waits for the running ones, stops listening
   * and removes the socket. Calling it again returns the same promise.
   */
  stop(): Promise<void>;
  /** Settles when the server has stopped. */
  readonly finished: Promise<void>;
}

/**
 * Starts serving on `options.socket`. A stale socket (nothing accepts on
 * it) is replaced; a live one, or anything that is not a socket, is an
 * error. The socket appears at its path already listening and already
 * 0660: it is bound in a private temp dir beside it and renamed in place.
 *
 * @throws {CniError} code 5 when the socket cannot be set up
 */
export async function startServer(
  options: ServerOptions,
): Promise<CnishimServer> {
  const { socket, handle, operations, observer } = options;
  const log = options.logger ?? SILENT_LOGGER;
  const inherited = options.listenFd !== undefined;
  if (!inherited) {
    await prepareParent(dirName(socket));
    await refuseLiveOrForeign(socket);
  }

  let inFlight = 0;
  let stopping: Promise<void> | undefined;
  let drained: (() => void) | undefined;

  const respond = (reply: ServeReply): Response => {
    const headers = new Headers({
      "content-type": "application/json",
      [EXIT_CODE_HEADER]: String(reply.exitCode),
    });
    if (reply.stderr) headers.set(STDERR_HEADER, encodeStderr(reply.stderr));
    return new Response(responseBody(reply), {
      status: httpStatus(reply),
      headers,
    });
  };
  const failed = (error: unknown): ServeReply => renderFailure(error);

  // The operation named by the path and its reply.
  const serveOne = async (
    request: Request,
    path: string,
  ): Promise<[string, ServeReply]> => {
    const operation = path.startsWith(API_PREFIX)
      ? path.slice(API_PREFIX.length)
      : "";
    if (stopping) {
      // Drain the body so the client sees the answer, not a reset.
      await request.body?.cancel().catch(() => {});
      return [
        // A label of the metrics: only known names, whatever the path.
        operations.includes(operation) ? operation : "unknown",
        failed(
          new CniError(
            CNI_ERROR_CODES.tryAgainLater,
            "cnishim serve is stopping; try again later",
          ),
        ),
      ];
    }
    if (!operations.includes(operation)) {
      return [
        "unknown",
        failed(
          new UsageError(
            `Unknown operation "${path}": use ${API_PREFIX}<${
              operations.join("|")
            }>${options.metrics ? " or GET /metrics" : ""}`,
          ),
        ),
      ];
    }
    if (request.method !== "POST" && request.method !== "GET") {
      return [
        operation,
        failed(
          new UsageError(`Method ${request.method} is not allowed: use POST`),
        ),
      ];
    }
    let body: ServeRequest;
    try {
      body = parseRequest(operation, await request.text());
    } catch (error) {
      if (error instanceof UsageError) return [operation, failed(error)];
      throw error;
    }
    return [operation, await handle(operation, body)];
  };

  const serveHandler = async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname;
    if (path === "/metrics" && options.metrics && request.method === "GET") {
      return new Response(options.metrics(), {
        headers: { "content-type": METRICS_CONTENT_TYPE },
      });
    }
    // Counted from the first byte: a request whose body is still arriving
    // when the stop begins is finished, not cut.
    inFlight++;
    const started = performance.now();
    try {
      const [operation, reply] = await serveOne(request, path);
      const response = respond(reply);
      observer?.finished(
        operation,
        response.status,
        reply.error,
        (performance.now() - started) / 1000,
      );
      return response;
    } finally {
      inFlight--;
      if (inFlight === 0) drained?.();
    }
  };
  const onError = (error: unknown): Response => {
    log.error("serve: request failed", { error: String(error) });
    return respond(failed(error));
  };

  const listener = inherited
    ? await listenOnFd(options.listenFd!, serveHandler, onError, socket)
    : await listenOnPath(socket, serveHandler, onError);

  let finish: () => void;
  const finished = new Promise<void>((resolve) => finish = resolve);
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info("stopping: finishing operations in flight", { inFlight });
      if (inFlight > 0) {
        await new Promise<void>((resolve) => drained = resolve);
      }
      await listener.close();
      log.info("stopped", { socket });
      finish();
    })();
    return stopping;
  };
  return {
    socket,
    get inFlight() {
      return inFlight;
    },
    get stopping() {
      return stopping !== undefined;
    },
    stop,
    finished,
  };
}

interface Listener {
  /** Stops accepting and removes what it created. */
  close(): Promise<void>;
}

type FetchHandler = (request: Request) => Promise<Response>;

// Deno.serve on a socket bound beside the path, made 0660, then renamed in.
async function listenOnPath(
  socket: string,
  handler: FetchHandler,
  onError: (error: unknown) => Response,
): Promise<Listener> {
  const bindAt = await bindPath(socket);
  let server: Deno.HttpServer<Deno.UnixAddr> | undefined;
  let ino: number | null;
  try {
    server = Deno.serve({ path: bindAt, onListen: () => {}, onError }, handler);
    await Deno.chmod(bindAt, 0o660);
    await Deno.rename(bindAt, socket);
    ino = (await Deno.lstat(socket)).ino;
  } catch (error) {
    await server?.shutdown();
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot listen on "${socket}": ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    await Deno.remove(dirName(bindAt), { recursive: true }).catch(() => {});
  }
  const http = server;
  return {
    async close() {
      await http.shutdown();
      // Only our own socket: another server may have taken the path since.
      const now = await Deno.lstat(socket).catch(() => undefined);
      if (now && now.ino === ino) await Deno.remove(socket).catch(() => {});
    },
  };
}

// Deno.serve cannot take a file descriptor; node:http can. Each request is
// bridged to the same fetch-style handler, so both paths answer alike.
async function listenOnFd(
  fd: number,
  handler: FetchHandler,
  onError: (error: unknown) => Response,
  socket: string,
): Promise<Listener> {
  // Requests whose answer is not written yet: the handler's in-flight count
  // drops before the bridge writes, and the stop must not cut that write.
  let writing = 0;
  let written: (() => void) | undefined;
  // Loaded here, not imported at the top: node:http brings Deno's Node
  // layer, and in the one-file bundle a top-level import is evaluated at
  // every start of every command (measured: `version` 46 → 24 ms).
  const { createServer } = await import("node:http");
  const server: Server = createServer((req, res) => {
    writing++;
    void (async () => {
      try {
        let response: Response;
        try {
          response = await handler(await toRequest(req));
        } catch (error) {
          response = onError(error);
        }
        const body = new Uint8Array(await response.arrayBuffer());
        const headers: Record<string, string> = {};
        response.headers.forEach((v, k) => headers[k] = v);
        headers["content-length"] = String(body.length);
        res.writeHead(response.status, headers);
        await new Promise<void>((resolve) => res.end(body, resolve));
      } finally {
        if (--writing === 0) written?.();
      }
    })();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen({ fd }, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot serve the inherited socket (fd ${fd}, ${socket}): ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
  return {
    async close() {
      if (writing > 0) await new Promise<void>((r) => written = r);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Every answer is written: keep-alive connections would only hold
        // close() open.
        server.closeAllConnections?.();
      });
    },
  };
}

async function toRequest(req: IncomingMessage): Promise<Request> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of req) chunks.push(chunk as Uint8Array);
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  }
  const method = req.method ?? "GET";
  const length = chunks.reduce((n, c) => n + c.length, 0);
  const body = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.length;
  }
  return new Request(`http://cnishim${req.url ?? "/"}`, {
    method,
    headers,
    ...(method === "GET" || method === "HEAD" ? {} : { body }),
  });
}

/**
 * The path of the unix socket behind an inherited descriptor, from
 * `/proc/self/fd` and `/proc/net/unix`; `fd <n>` when it has none.
 *
 * @throws {CniError} code 5 when the descriptor is not a socket
 */
export async function inheritedSocketPath(fd: number): Promise<string> {
  let link: string;
  try {
    link = await Deno.readLink(`/proc/self/fd/${fd}`);
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Socket activation passed fd ${fd}, which is not open: ${
        (error as Error).message
      }`,
    );
  }
  const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
  if (!inode) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Socket activation passed fd ${fd}, which is not a socket (${link})`,
    );
  }
  const table = await Deno.readTextFile("/proc/net/unix").catch(() => "");
  for (const line of table.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols[6] === inode && cols[7]) return cols[7];
  }
  return `fd ${fd}`;
}

// The socket's dir: created 0750 when missing (the socket's group must be
// able to reach it); an existing dir is the operator's and left alone.
async function prepareParent(dir: string): Promise<void> {
  try {
    const info = await Deno.stat(dir);
    if (!info.isDirectory) {
      throw new CniError(
        CNI_ERROR_CODES.ioFailure,
        `Cannot listen in "${dir}": not a directory`,
      );
    }
    return;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  try {
    await Deno.mkdir(dir, { recursive: true, mode: 0o750 });
    await Deno.chmod(dir, 0o750);
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot create the socket directory "${dir}": ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
}

async function refuseLiveOrForeign(socket: string): Promise<void> {
  const info = await Deno.lstat(socket).catch(() => undefined);
  if (!info) return;
  if (!info.isSocket) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot listen on "${socket}": it exists and is not a socket`,
    );
  }
  let conn: Deno.UnixConn | undefined;
  try {
    conn = await Deno.connect({ transport: "unix", path: socket });
  } catch {
    return; // stale: nobody accepts; the rename replaces it
  }
  conn.close();
  throw new CniError(
    CNI_ERROR_CODES.ioFailure,
    `Cannot listen on "${socket}": another server is listening there`,
  );
}

// A fresh 0700 dir beside the socket, so that nobody can connect before the
// mode is 0660 and a stale socket is replaced atomically by the rename.
async function bindPath(socket: string): Promise<string> {
  try {
    const dir = await Deno.makeTempDir({
      dir: dirName(socket),
      prefix: ".cnishim-serve-",
    });
    return `${dir}/s`;
  } catch (error) {
    throw new CniError(
      CNI_ERROR_CODES.ioFailure,
      `Cannot listen on "${socket}": ${(error as Error).message}`,
      { cause: error },
    );
  }
}
