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
import { CNI_ERROR_CODES, CniError, UsageError } from "../spec/errors.ts";
import { renderFailure } from "../spec/render_failure.ts";
import { dirName } from "../spec/posix_path.ts";
import { type Logger, SILENT_LOGGER } from "../log/logger.ts";
import {
  API_PREFIX,
  encodeStderr,
  EXIT_CODE_HEADER,
  httpStatus,
  parseHookRequest,
  parseServeRequest,
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

/** Options of {@link startServer}. */
export interface ServerOptions {
  /** The socket path (absolute). */
  socket: string;
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
  const { socket, handle, operations } = options;
  const log = options.logger ?? SILENT_LOGGER;
  await prepareParent(dirName(socket));
  await refuseLiveOrForeign(socket);

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
  const failed = (error: unknown): Response => respond(renderFailure(error));

  const serveOne = async (request: Request): Promise<Response> => {
    const path = new URL(request.url).pathname;
    const operation = path.startsWith(API_PREFIX)
      ? path.slice(API_PREFIX.length)
      : "";
    if (stopping) {
      // Drain the body so the client sees the answer, not a reset.
      await request.body?.cancel().catch(() => {});
      return failed(
        new CniError(
          CNI_ERROR_CODES.tryAgainLater,
          "cnishim serve is stopping; try again later",
        ),
      );
    }
    if (!operations.includes(operation)) {
      return failed(
        new UsageError(
          `Unknown operation "${path}": use ${API_PREFIX}<${
            operations.join("|")
          }>`,
        ),
      );
    }
    if (request.method !== "POST" && request.method !== "GET") {
      return failed(
        new UsageError(`Method ${request.method} is not allowed: use POST`),
      );
    }
    let body: ServeRequest;
    try {
      const text = await request.text();
      body = operation === "hook"
        ? parseHookRequest(text)
        : parseServeRequest(text);
    } catch (error) {
      if (error instanceof UsageError) return failed(error);
      throw error;
    }
    return respond(await handle(operation, body));
  };

  const bindAt = await bindPath(socket);
  const serveOptions: Deno.ServeUnixOptions = {
    path: bindAt,
    onListen: () => {},
    onError: (error) => {
      log.error("serve: request failed", { error: String(error) });
      return failed(error);
    },
  };
  const serveHandler = async (request: Request): Promise<Response> => {
    // Counted from the first byte: a request whose body is still arriving
    // when the stop begins is finished, not cut.
    inFlight++;
    try {
      return await serveOne(request);
    } finally {
      inFlight--;
      if (inFlight === 0) drained?.();
    }
  };
  let server: Deno.HttpServer<Deno.UnixAddr> | undefined;
  let ino: number | null;
  try {
    server = Deno.serve(serveOptions, serveHandler);
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
  log.info("serving", { socket });

  let finish: () => void;
  const finished = new Promise<void>((resolve) => finish = resolve);
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info("stopping: finishing operations in flight", { inFlight });
      if (inFlight > 0) {
        await new Promise<void>((resolve) => drained = resolve);
      }
      await http.shutdown();
      // Only our own socket: another server may have taken the path since.
      const now = await Deno.lstat(socket).catch(() => undefined);
      if (now && now.ino === ino) await Deno.remove(socket).catch(() => {});
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
