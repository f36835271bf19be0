// Pure: no Deno API.
/**
 * The `--help` text: the commands from the command table, the flags from
 * `flags.ts`'s table.
 *
 * @module
 */
import { FLAGS, type FlagSpec } from "./flags.ts";
import { COMMANDS } from "./command_table.ts";

/** A setting's value when its flag is not given, and where it comes from. */
export interface EffectiveDefault {
  /** The value (a list is shown `:`-joined). */
  value: unknown;
  /** `CNISHIM_…` or `"key" in FILE`. */
  from: string;
}

/**
 * The `--help` text. `effective` holds the settings whose default here is
 * not the built-in one (from the environment or the config file): they are
 * shown with their source. `note` is one line shown under the flags (why
 * the config file could not be read).
 */
export function renderHelp(
  effective: Readonly<Record<string, EffectiveDefault>> = {},
  note?: string,
): string {
  const width = Math.max(...FLAGS.map((f) => flagLabel(f).length));
  return [
    "cnishim — the CNI front end a container runtime runs per pod sandbox",
    "",
    "Usage: cnishim <command> [arguments] [flags]",
    "",
    "Commands:",
    ...COMMANDS.map((c) =>
      `  ${`${c.name} ${c.args}`.padEnd(44)} ${c.summary}`
    ),
    "",
    "Flags (before or after the command; flag > CNISHIM_<FLAG> env > config file > default):",
    ...FLAGS.map((f) =>
      `  ${flagLabel(f).padEnd(width)}  ${flagHelp(f, effective[f.name])}`
    ),
    ...(note ? ["", note] : []),
    "",
    "Output: JSON on stdout (a CNI error object on failure), messages on stderr.",
    "Exit status: 0 success, 1 CNI error (code in the error object), 2 usage error, 3 output lost (stdout or stderr could not be written; the operation itself may have succeeded, as one stderr line says when it can).",
    "Plugin mode: with CNI_COMMAND set, cnishim acts as a CNI plugin instead.",
    "",
  ].join("\n");
}

function flagHelp(f: FlagSpec, effective?: EffectiveDefault): string {
  if (!effective) return f.help;
  const v = effective.value;
  const shown = Array.isArray(v)
    ? v.join(":")
    : typeof v === "string"
    ? v
    : JSON.stringify(v);
  const text = `[default: ${
    shown === "" ? '""' : shown
  }, from ${effective.from}]`;
  return /\[default: [^\]]*\]/.test(f.help)
    ? f.help.replace(/\[default: [^\]]*\]/, () => text)
    : `${f.help} ${text}`;
}

function flagLabel(f: FlagSpec): string {
  return `--${f.name}${f.value ? ` ${f.value}` : ""}`;
}
