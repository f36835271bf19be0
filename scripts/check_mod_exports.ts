// deno-lint-ignore-file no-console -- a script talks to its operator on the console
/**
 * Keeps `mod.ts` a short, explicit table of contents: a `@module` JSDoc
 * first, then named re-exports only (no `export *`, no code of its own), in
 * groups that each open with a `//` line saying why they are public, at
 * most {@link MAX_EXPORTS} names, and every function exported with an
 * `@example` in its JSDoc. Exits 1 listing the problems.
 *
 * @module
 */

/** The surface a runtime author reads; libcni's interface has 15 methods. */
const MAX_EXPORTS = 90;

const path = new URL("../mod.ts", import.meta.url);
const text = await Deno.readTextFile(path);
const problems: string[] = [];

const docEnd = text.indexOf("*/");
const doc = text.startsWith("/**") && docEnd > 0 ? text.slice(0, docEnd) : "";
if (!doc.includes("@module")) problems.push("mod.ts: no @module JSDoc first");

const code = text.slice(docEnd + 2);
if (/export\s+(type\s+)?\*/.test(code)) {
  problems.push("mod.ts: `export *` hides what is exported; name each export");
}
const exported = new Set<string>();
const values: { name: string; from: string }[] = [];
for (
  const m of code.matchAll(
    /export\s+(type\s+)?\{([^}]*)\}\s*from\s*"([^"]+)"/g,
  )
) {
  for (const item of m[2]!.split(",")) {
    // `type X`, `X as Y`: the exported name is the last word.
    const words = item.trim().split(/\s+/);
    const name = words.at(-1);
    if (!name) continue;
    exported.add(name);
    if (!m[1] && words[0] !== "type") {
      values.push({ name: words[0]!, from: m[3]! });
    }
  }
}
if (/export\s+(const|let|function|class|interface|type\s+\w+\s*=)/.test(code)) {
  problems.push("mod.ts: declares code; it only re-exports");
}
for (const group of code.split(/\n\s*\n/)) {
  const first = group.trim().split("\n")[0] ?? "";
  if (group.includes("export") && !first.startsWith("//")) {
    problems.push(
      `mod.ts: the exports from \`${first}\` have no \`//\` line saying why they are public`,
    );
  }
}
// A function's JSDoc is the comment right before its first declaration.
for (const { name, from } of values) {
  const source = await Deno.readTextFile(new URL(from, path));
  const decl = source.search(
    new RegExp(`^export (async )?function ${name}\\b`, "m"),
  );
  if (decl < 0) continue;
  const before = source.slice(0, decl).trimEnd();
  const doc = before.endsWith("*/")
    ? before.slice(before.lastIndexOf("/**"))
    : "";
  if (!doc.includes("@example")) {
    problems.push(
      `mod.ts exports ${name} (${from}), whose JSDoc has no @example`,
    );
  }
}
if (exported.size > MAX_EXPORTS) {
  problems.push(
    `mod.ts exports ${exported.size} names, more than ${MAX_EXPORTS}: keep it the library a runtime author needs`,
  );
}

if (problems.length) {
  for (const p of problems) console.error(p);
  Deno.exit(1);
}
console.error(
  `mod.ts ok: ${exported.size} exports (at most ${MAX_EXPORTS}), every function with an example`,
);
