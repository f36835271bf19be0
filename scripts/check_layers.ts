// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * Keeps the dependency ladder honest: a file under `src/<folder>/` may
 * import its own folder or a lower rank, a `_private.ts` file only from its
 * own folder, and no import cycle may exist. Exits 1 listing violations.
 *
 * A dynamic `import()` is ranked like any import, but it is left out of
 * the cycle search: it runs after every static import has been evaluated,
 * so a cycle through one never sees a half-initialized module (the command
 * table loads `serve`, which runs the other commands through the table).
 *
 * And no file of `src/` imports a `node:` module at its top (types aside):
 * the CLI ships as one bundled file, where such an import is evaluated at
 * every start of every command, and a node: module brings Deno's Node layer
 * (`node:http` at the top made `cnishim version` 46 ms instead of 24).
 * Load one with `await import("node:…")` where it is needed.
 *
 * @module
 */
import { dirname, join, relative, resolve } from "node:path";

/** Folder → rank; `main.ts` sits on top. */
const RANKS: Record<string, number> = {
  spec: 0,
  result: 1,
  config: 1,
  log: 1,
  invoke: 2,
  cache: 2,
  engine: 3,
  runtime: 4,
  install: 4,
  cli: 5,
  plugin: 5,
  serve: 5,
  "": 6,
};

/** Edges between folders of one rank that are allowed, one way only. */
const SIDEWAYS = new Set(["cli>serve", "cli>plugin"]);

const root = resolve(new URL("..", import.meta.url).pathname);
const src = join(root, "src");
const IMPORT = /(from\s+|import\s*\(\s*)["'](\.[^"']+)["']/g;
const STATIC_NODE_IMPORT =
  /^\s*import\s+(?!type\b)[^;]*?from\s+["']node:([^"']+)["']/gm;

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) yield* walk(p);
    else if (e.name.endsWith(".ts")) yield p;
  }
}

function folderOf(file: string): string {
  const rel = relative(src, file).split("/");
  return rel.length > 1 ? rel[0]! : "";
}

const graph = new Map<string, string[]>();
const problems: string[] = [];
for await (const file of walk(src)) {
  // Imports inside JSDoc examples are not edges of the module graph.
  const text = (await Deno.readTextFile(file)).split("\n")
    .filter((line) => !/^\s*(\*|\/\/)/.test(line)).join("\n");
  const deps: string[] = [];
  for (const m of text.matchAll(STATIC_NODE_IMPORT)) {
    problems.push(
      `${relative(root, file)}: imports node:${
        m[1]
      } at the top; load it with await import() where it is needed (every start of the bundle pays for it)`,
    );
  }
  for (const m of text.matchAll(IMPORT)) {
    const target = resolve(dirname(file), m[2]!);
    if (m[1]!.startsWith("from")) deps.push(target);
    const from = folderOf(file);
    const to = relative(src, target).startsWith("..")
      ? undefined
      : folderOf(target);
    const where = relative(root, file);
    if (to === undefined) {
      problems.push(`${where}: imports ${m[2]} outside src/`);
      continue;
    }
    if (!(from in RANKS) || !(to in RANKS)) {
      problems.push(
        `${where}: folder "${
          !(from in RANKS) ? from : to
        }" has no rank in scripts/check_layers.ts`,
      );
    } else if (
      from !== to && RANKS[to]! >= RANKS[from]! &&
      !SIDEWAYS.has(`${from}>${to}`)
    ) {
      problems.push(
        `${where}: ${from || "main"} (rank ${
          RANKS[from]
        }) must not import ${to} (rank ${RANKS[to]})`,
      );
    }
    const base = target.split("/").pop()!;
    if (base.startsWith("_") && dirname(target) !== dirname(file)) {
      problems.push(
        `${where}: imports private ${
          relative(root, target)
        } from another folder`,
      );
    }
  }
  graph.set(file, deps);
}

// Cycles, by depth-first search with colours.
const state = new Map<string, 1 | 2>();
function visit(node: string, path: string[]): void {
  if (state.get(node) === 2) return;
  if (state.get(node) === 1) {
    const cycle = path.slice(path.indexOf(node)).concat(node);
    problems.push(
      `import cycle: ${cycle.map((p) => relative(root, p)).join(" -> ")}`,
    );
    return;
  }
  state.set(node, 1);
  for (const dep of graph.get(node) ?? []) visit(dep, [...path, node]);
  state.set(node, 2);
}
for (const node of graph.keys()) visit(node, []);

if (problems.length) {
  for (const p of problems) console.error(p);
  Deno.exit(1);
}
console.error(`layers ok: ${graph.size} files`);
