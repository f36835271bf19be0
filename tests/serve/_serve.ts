/**
 * `cnishim serve` as a child process, the way a runtime would run it, for
 * the serve suites: started with the given flags, ready once its socket
 * accepts, stopped
 * with a signal; disposing kills it if a test did not get that far.
 *
 * @module
 */
import { join } from "node:path";
import { baseEnv, cliCommand } from "../_helpers/run_cli.ts";
import type { FakePlugins } from "../_helpers/fake_plugins.ts";

/** How a server child ended. */
export interface ServeExit {
  /** Exit status. */
  code: number;
  /** Its stderr (its log, at the default level warnings and errors). */
  stderr: string;
}

/** A running `cnishim serve`. */
export interface ServeChild extends AsyncDisposable {
  /** The socket it listens on. */
  socket: string;
  /** The process id. */
  pid: number;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: Deno.Signal): Promise<ServeExit>;
  /** Settles when the child exits on its own. */
  exited: Promise<ServeExit>;
}

/**
 * Spawns `argv` (a `cnishim serve` command line, or one that execs it) from
 * the tests' base environment, its stderr collected from the start so that
 * a chatty child never blocks on a full pipe.
 */
export function spawnServe(
  argv: string[],
): { child: Deno.ChildProcess; exited: Promise<ServeExit> } {
  const [cmd, ...args] = argv;
  const child = new Deno.Command(cmd!, {
    args,
    clearEnv: true,
    env: baseEnv(),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const exited = child.output().then((out) => ({
    code: out.code,
    stderr: new TextDecoder().decode(out.stderr),
  }));
  return { child, exited };
}

/**
 * Starts `cnishim serve --socket <socket> <flags>` and waits until it
 * listens; `wrapper` runs it (`["prlimit", "--nofile=64:64"]`), its pid is
 * then the wrapper's, which execs it.
 */
export async function startServe(
  socket: string,
  flags: string[],
  wrapper: string[] = [],
): Promise<ServeChild> {
  const { child, exited } = spawnServe([
    ...wrapper,
    ...cliCommand(),
    "serve",
    "--socket",
    socket,
    ...flags,
  ]);
  let done: ServeExit | undefined;
  void exited.then((e) => done = e);
  const deadline = Date.now() + 15_000;
  // Accepting, not just present: a stale socket may sit at the path.
  const listening = () =>
    Deno.connect({ transport: "unix", path: socket }).then((c) => {
      c.close();
      return true;
    }, () => false);
  while (!(await listening())) {
    if (done) {
      throw new Error(
        `cnishim serve exited ${done.code} before listening:\n${done.stderr}`,
      );
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`cnishim serve did not listen on ${socket} within 15 s`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const stop = async (signal: Deno.Signal = "SIGTERM") => {
    if (!done) {
      try {
        child.kill(signal);
      } catch { /* already gone */ }
    }
    return await exited;
  };
  return {
    socket,
    pid: child.pid,
    stop,
    exited,
    async [Symbol.asyncDispose]() {
      if (!done) await stop("SIGKILL");
    },
  };
}

/** A conf dir with `networks` (file order = list order) and an empty shim config. */
export async function bedFor(
  fake: FakePlugins,
  networks: { name: string; types: string[] }[],
): Promise<{ conf: string; flags: string[]; socket: string }> {
  const conf = join(fake.root, "net.d");
  await Deno.mkdir(conf, { recursive: true });
  for (const [i, net] of networks.entries()) {
    await writeNetwork(conf, `${10 + i}-${net.name}.conflist`, net);
  }
  const config = join(fake.root, "config.json");
  await Deno.writeTextFile(config, "{}");
  return {
    conf,
    socket: join(fake.root, "run", "cnishim.sock"),
    flags: fake.cliFlags(conf, config),
  };
}

/** Writes one conflist of fake plugin types. */
export async function writeNetwork(
  conf: string,
  file: string,
  net: { name: string; types: string[] },
): Promise<void> {
  await Deno.writeTextFile(
    join(conf, file),
    JSON.stringify({
      cniVersion: "1.0.0",
      name: net.name,
      plugins: net.types.map((type) => ({ type })),
    }),
  );
}

/** A raw HTTP client of a server's socket, as curl or a runtime's own code is. */
export interface RawHttp extends Disposable {
  /** POSTs `body` to `path`. */
  post(path: string, body: string): Promise<Response>;
  /** GETs `path`. */
  get(path: string): Promise<Response>;
}

/** A {@link RawHttp} on `socket`; disposing closes it. */
export function rawHttp(socket: string): RawHttp {
  const client = Deno.createHttpClient({
    proxy: { transport: "unix", path: socket },
  });
  const url = (path: string) => `http://cnishim${path}`;
  return {
    post: (path, body) => fetch(url(path), { method: "POST", body, client }),
    get: (path) => fetch(url(path), { client }),
    [Symbol.dispose]: () => client.close(),
  };
}
