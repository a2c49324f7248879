import { CommanderError, type Command } from 'commander';
import { ConfigurationError } from '../config/environment.js';
import { ForgeError, errorMessage } from '../core/errors.js';

/**
 * Exit codes shared by every command line of this product. `retryable` (3) is for a command
 * whose caller retries on it (`forge-dispatcher` under Argo): it failed for a reason that
 * running it again may fix.
 */
export const ExitCode = { success: 0, failure: 1, usage: 2, retryable: 3 } as const;

/** A problem with how a command was called (arguments, flags, configuration). */
export class UsageError extends ForgeError {}

/**
 * Runs a commander program and turns every failure into one line on stderr and an exit code:
 * 2 for usage and configuration errors, else what `exitCodeOf` says, else 1. Stack traces are
 * printed only when `FORGE_DEBUG` is set, for whoever debugs the product itself.
 */
export async function runCli(
  program: Command,
  argv: readonly string[] = process.argv,
  exitCodeOf: (error: unknown) => number | undefined = () => undefined,
): Promise<void> {
  for (const command of withSubcommands(program)) command.exitOverride();
  try {
    await program.parseAsync([...argv]);
  } catch (error) {
    process.exitCode = reportFailure(program.name(), error, exitCodeOf);
  }
}

function withSubcommands(command: Command): Command[] {
  return [command, ...command.commands.flatMap(withSubcommands)];
}

function reportFailure(
  name: string,
  error: unknown,
  exitCodeOf: (error: unknown) => number | undefined,
): number {
  if (error instanceof CommanderError) {
    return error.exitCode === 0 ? ExitCode.success : ExitCode.usage;
  }
  const oneLine = errorMessage(error).split('\n')[0] ?? 'failed';
  process.stderr.write(`${name}: ${oneLine}\n`);
  if (process.env.FORGE_DEBUG && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  if (error instanceof UsageError || error instanceof ConfigurationError) return ExitCode.usage;
  return exitCodeOf(error) ?? ExitCode.failure;
}
