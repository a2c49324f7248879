import { Command, InvalidArgumentError } from 'commander';
import {
  LocalTokenSigner,
  MAX_LOCAL_TOKEN_TTL_SECONDS,
  type LocalTokenRequest,
} from '../../adapters/auth/local-token-signer.js';
import { loadAuthConfig, localIssuerUrl } from '../../config/auth-environment.js';
import { loadForgeEnvironment } from '../../config/forge-environment.js';
import { RepositoryFullNameSchema } from '../../core/contracts/api.js';
import { parseDurationSeconds } from '../../core/duration.js';
import { PrincipalKind } from '../../core/ports/authenticator.js';
import { UsageError } from '../run-cli.js';

interface TokenFlags {
  repository?: string;
  service?: boolean;
  subject?: string;
  ref?: string;
  audience?: string;
  ttl: number;
}

/**
 * `forge-pipeline token`: prints one bearer token signed by the embedded mode's local issuer,
 * GitHub-Actions-shaped (`--repository`) for the public routes or a service-account one
 * (`--service`) for the internal routes. It signs with the key pair in `FORGE_LOCAL_ISSUER_DIR`
 * and names the issuer on 127.0.0.1:`FORGE_LOCAL_ISSUER_PORT`, exactly what an embedded server
 * with the same configuration trusts, whether or not that server runs yet.
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
      if (loadForgeEnvironment().FORGE_MODE !== 'embedded') {
        throw new UsageError('token signs for the embedded mode only (FORGE_MODE=embedded)');
      }
      const config = loadAuthConfig();
      const { directory, port } = config.localIssuer;
      if (port === 0) {
        throw new UsageError('FORGE_LOCAL_ISSUER_PORT is 0: set the port the server listens on');
      }
      const kind = flags.service ? PrincipalKind.service : PrincipalKind.githubActions;
      const trusted = kind === PrincipalKind.service ? config.service : config.githubActions;
      if (trusted.issuer !== localIssuerUrl(port, kind)) {
        const variable = flags.service ? 'FORGE_SERVICE_OIDC_ISSUER' : 'FORGE_GITHUB_OIDC_ISSUER';
        throw new UsageError(`${variable} trusts ${trusted.issuer}, not the local issuer`);
      }
      const common = { audience: flags.audience ?? trusted.audience, ttlSeconds: flags.ttl };
      const request: LocalTokenRequest = flags.service
        ? { ...common, kind: PrincipalKind.service, subject: flags.subject }
        : {
            ...common,
            kind: PrincipalKind.githubActions,
            repository: requiredRepository(flags.repository),
            ref: flags.ref,
          };
      const signer = await LocalTokenSigner.open({ directory, port });
      const token = await signer.sign(request);
      process.stdout.write(`${token}\n`);
    });
}

function requiredRepository(repository: string | undefined): string {
  if (repository === undefined) {
    throw new UsageError('--repository <owner/name> is required (or --service)');
  }
  return repository;
}

function parseRepository(value: string): string {
  const parsed = RepositoryFullNameSchema.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError('must be a GitHub repository as owner/name');
  return parsed.data;
}

function parseTtl(value: string): number {
  const seconds = parseDurationSeconds(value);
  if (seconds === undefined || seconds > MAX_LOCAL_TOKEN_TTL_SECONDS) {
    throw new InvalidArgumentError('must be a duration from 1s to 24h, such as 90s, 30m or 1h');
  }
  return seconds;
}
