// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * Keeps the dependency ladder honest: a file under `src/<folder>/` may
 * import its own folder or a strictly lower rank, a `_private.ts` file only
 * from its own folder, and no import cycle may exist, a dynamic `import()`
 * counted like any import. Exits 1 listing violations.
 *
 * A file marked `// Pure: no Deno API.` keeps the marker's promise: no
 * `Deno` in its code, no `node:` module, and its static imports are pure
 * files too (type-only ones aside: they are erased), so loading it runs
 * wherever a JavaScript engine does. A dynamic `import()` is not loaded
 * with it (the command table's rows load their commands when they run).
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

/**
 * Folder → rank, by what each folder imports; `main.ts` sits on top.
 * `serve` (the socket transport) needs only config, invoke and log;
 * `plugin` runs the engine; `cli` drives all of them.
 */
const RANKS: Record<string, number> = {
  spec: 0,
  result: 1,
  config: 1,
  log: 1,
  invoke: 2,
  cache: 2,
  engine: 3,
  serve: 3,
  runtime: 4,
  plugin: 4,
  install: 4,
  cli: 5,
  "": 6,
};

const PURE_MARKER = "// Pure: no Deno API.";

const root = resolve(new URL("..", import.meta.url).pathname);
const src = join(root, "src");
const IMPORT = /(from\s+|import\s*\(\s*)["'](\.[^"']+)["']/g;
// `import type … from` and `export type … from`: erased, so no runtime edge.
const TYPE_ONLY = /^\s*(import|export)\s+type\b/;
const NODE_IMPORT = /["']node:[^"']+["']/;
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
const pure = new Set<string>();
// Pure file → the files it loads with it (static, not type-only imports).
const runtimeDeps = new Map<string, string[]>();
const problems: string[] = [];
for await (const file of walk(src)) {
  const raw = await Deno.readTextFile(file);
  // Imports inside JSDoc examples are not edges of the module graph.
  const text = raw.split("\n")
    .filter((line) => !/^\s*(\*|\/\/)/.test(line)).join("\n");
  if (raw.split("\n").some((line) => line.trim() === PURE_MARKER)) {
    pure.add(file);
    runtimeDeps.set(file, []);
    checkPure(file, text);
  }
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
    deps.push(target);
    if (m[1]!.startsWith("from") && !isTypeOnly(text, m.index!)) {
      runtimeDeps.get(file)?.push(target);
    }
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
    } else if (from !== to && RANKS[to]! >= RANKS[from]!) {
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

for (const [file, deps] of runtimeDeps) {
  for (const dep of deps) {
    if (!pure.has(dep)) {
      problems.push(
        `${relative(root, file)}: marked pure but imports ${
          relative(root, dep)
        }, which is not (mark it, or import only its types)`,
      );
    }
  }
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

// Whether the `import … from`/`export … from` statement ending at `at` is
// type-only: its first line, the last one before `at` starting a statement.
function isTypeOnly(text: string, at: number): boolean {
  const lines = text.slice(0, at).split("\n");
  const first = lines.findLast((l) => /^\s*(import|export)\b/.test(l));
  return first !== undefined && TYPE_ONLY.test(first);
}

// `Deno` anywhere in the code (`Deno.x`, `Deno[x]`, a `Deno.` type;
// comments dropped, strings not exempt: a pure file has no reason to spell
// it) or a node: module breaks the marker.
function checkPure(file: string, code: string): void {
  const where = relative(root, file);
  for (const line of code.split("\n")) {
    const bare = line.replace(/\/\/.*$/, "");
    if (/\bDeno\b/.test(bare)) {
      problems.push(
        `${where}: marked pure but uses the Deno API: ${line.trim()}`,
      );
    }
    if (NODE_IMPORT.test(bare)) {
      problems.push(`${where}: marked pure but imports a node: module`);
    }
  }
}

if (problems.length) {
  for (const p of problems) console.error(p);
  Deno.exit(1);
}
console.error(`layers ok: ${graph.size} files`);
