// Pure: no Deno API.
/**
 * A small flag parser for the command line: `--name value`, `--name=value`,
 * repeatable flags, booleans, flags before or after the command, and `--`
 * to end flags. Unknown flags are usage errors.
 *
 * @module
 */
import { UsageError } from "../spec/errors.ts";

/** How a flag takes its value. */
export type FlagKind = "string" | "boolean" | "list";

/** One flag of the command line. */
export interface FlagSpec {
  /** The long name, without `--`. */
  name: string;
  /** Value kind: `list` flags repeat and split on `,` and `:`. */
  kind: FlagKind;
  /** Help text. */
  help: string;
  /** Placeholder of the value in help. */
  value?: string;
  /**
   * The value may be `@FILE`, standing for the file's text. Whoever parses
   * the command line reads the file: the CLI, the `--socket` client, never
   * `cnishim serve` for a request (it runs as root and must not read a
   * file on a client's say-so).
   */
  file?: true;
}

/** Parsed flags and positional arguments. */
export interface ParsedArgs {
  /** Flag values by name (strings, booleans, or string lists). */
  flags: Map<string, string | boolean | string[]>;
  /** Positional arguments, the command first. */
  positionals: string[];
}

/** Parses `argv` against `specs`. */
export function parseFlags(
  argv: readonly string[],
  specs: readonly FlagSpec[],
): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const flags = new Map<string, string | boolean | string[]>();
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === "-h") {
      flags.set("help", true);
      continue;
    }
    if (!arg.startsWith("--")) {
      if (arg.length > 1 && arg.startsWith("-")) {
        throw new UsageError(`Unknown flag "${arg}": flags take two dashes`);
      }
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    const spec = byName.get(name);
    if (!spec) throw new UsageError(`Unknown flag "--${name}"`);
    if (spec.kind === "boolean") {
      if (eq !== -1) {
        const v = arg.slice(eq + 1);
        if (v !== "true" && v !== "false") {
          throw new UsageError(
            `Flag "--${name}" takes true or false, not "${v}"`,
          );
        }
        flags.set(name, v === "true");
      } else {
        flags.set(name, true);
      }
      continue;
    }
    let value: string;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      if (i + 1 >= argv.length) {
        throw new UsageError(`Flag "--${name}" needs a value`);
      }
      value = argv[++i]!;
    }
    if (spec.kind === "list") {
      const prev = (flags.get(name) as string[] | undefined) ?? [];
      flags.set(name, [...prev, ...splitListValue(value)]);
    } else {
      flags.set(name, value);
    }
  }
  return { flags, positionals };
}

/** A list flag's value: `,`- or `:`-separated, empty items dropped. */
export function splitListValue(value: string): string[] {
  return value.split(/[,:]/).filter(Boolean);
}
