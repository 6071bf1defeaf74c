import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../core/errors.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Every command's argument handling in one place: strict parsing (an unknown or malformed option is a usage error
 * showing the command's usage, exit 64; so is a stray positional argument unless the command takes some) and
 * `--help`/`-h`, which prints the usage. Returns null when help was
 * printed, so the command returns 0.
 */
export function parseCommandArgs<O extends Options>(argv: string[], options: O, usage: string, allowPositionals = false) {
  const withHelp = { ...options, help: { type: 'boolean', short: 'h', default: false } } as const;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: withHelp, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n\n${usage}`);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(usage);
    return null;
  }
  return parsed;
}

/** Exactly `count` positional arguments, named in the error (e.g. "FILE"). */
export function expectPositionals(positionals: string[], count: number, name: string, usage: string): void {
  if (positionals.length !== count) throw new UsageError(`expected ${count === 1 ? 'one' : count} ${name}, got ${positionals.length}\n\n${usage}`);
}
