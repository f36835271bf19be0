/**
 * The socket plumbing of `cnishim serve`: the unix socket bound at its
 * path (already listening and 0660 when it appears there) or the one
 * systemd passed, each request handed to a fetch-style handler, and a
 * close that removes only the socket it created. Routing and the drain
 * are `server.ts`'s.
 *
 * @module
 */
import { CNI_ERROR_CODES, CniError } from "../spec/errors.ts";
import type { IncomingMessage, Server } from "node:http";
import { dirName } from "../spec/posix_path.ts";

/** A socket being served. */
export interface Listener {
  /** Stops accepting and removes what it created. */
  close(): Promise<void>;
}

/** Answers one request. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** Deno.serve on a socket bound beside `socket`, made 0660, then renamed in. */
export async function listenOnPath(
  socket: string,
  handler: FetchHandler,
  onError: (error: unknown) => Response,
): Promise<Listener> {
  const bindAt = await bindPath(socket);
  let server: Deno.HttpServer<Deno.UnixAddr> | undefined;
  let ino: number | null;
  try {
    server = bindRelative(
      bindAt,
      (path) => Deno.serve({ path, onListen: () => {}, onError }, handler),
    );
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

/**
 * Serves an inherited socket. Deno.serve cannot take a file descriptor;
 * node:http can. Each request is bridged to the same fetch-style handler,
 * so both paths answer alike.
 */
export async function listenOnFd(
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

/**
 * The socket's dir: created 0750 when missing (the socket's group must be
 * able to reach it); an existing dir is the operator's and left alone.
 */
export async function prepareParent(dir: string): Promise<void> {
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

/** Refuses a socket path where a server listens or a non-socket is. */
export async function refuseLiveOrForeign(socket: string): Promise<void> {
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

// Bound by its path relative to the socket's dir, so that a socket path
// that fits sun_path never fails because the temp dir beside it is longer.
// chdir is process-wide, but this is synchronous: no other JS runs between
// the two chdirs, and a child spawned later gets the cwd back.
function bindRelative<T>(bindAt: string, bind: (path: string) => T): T {
  let cwd: string;
  try {
    cwd = Deno.cwd();
  } catch {
    return bind(bindAt); // no cwd to come back to
  }
  Deno.chdir(dirName(bindAt));
  try {
    return bind("s");
  } finally {
    Deno.chdir(cwd);
  }
}
