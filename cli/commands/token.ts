import { Command, InvalidArgumentError } from 'commander';
import { RepositoryFullNameSchema } from '../../core/contracts/api.js';
import { parseDurationSeconds } from '../../core/duration.js';
import { MAX_LOCAL_TOKEN_TTL_SECONDS as MAX_TTL_SECONDS } from '../../adapters/auth/local-token-limits.js';
import type { TokenFlags } from './print-token.js';

/**
 * `forge-pipeline token`: prints one bearer token signed by the embedded mode's local issuer,
 * GitHub-Actions-shaped (`--repository`) for the public routes or a service-account one
 * (`--service`) for the internal routes. It signs with the key pair in `FORGE_LOCAL_ISSUER_DIR`
 * and names the issuer on 127.0.0.1:`FORGE_LOCAL_ISSUER_PORT`, exactly what an embedded server
 * with the same configuration trusts, whether or not that server runs yet. The signer is
 * loaded only when the command runs.
 */
export function tokenCommand(): Command {
  return new Command('token')
    .description('print a token of the local issuer (embedded mode) for calling the API')
    .option(
      '--repository <owner/name>',
      'the repository claim of a GitHub Actions token',
      parseRepository,
    )
    .option('--service', 'a service-account token for the internal routes instead')
    .option('--subject <sub>', 'the subject of a service-account token')
    .option('--ref <ref>', 'the ref of a GitHub Actions token', 'refs/heads/main')
    .option('--audience <aud>', 'the audience (default: the one the server expects)')
    .option('--ttl <duration>', 'lifetime such as 90s, 30m, 1h (at most 24h)', parseTtl, 3600)
    .action(async (flags: TokenFlags) => {
      const { printToken } = await import('./print-token.js');
      await printToken(flags);
    });
}

function parseRepository(value: string): string {
  const parsed = RepositoryFullNameSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError('must be a GitHub repository as owner/name');
  return parsed.data;
}

function parseTtl(value: string): number {
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined || seconds > MAX_TTL_SECONDS) {
    throw new InvalidArgumentError('must be a duration from 1s to 24h, such as 90s, 30m or 1h');
  }
  return seconds;
}
