import {
  LocalTokenSigner,
  type LocalTokenRequest,
} from '../../adapters/auth/local-token-signer.js';
import { loadAuthConfig, localIssuerUrl } from '../../config/auth-environment.js';
import { loadForgeEnvironment } from '../../config/forge-environment.js';
import { PrincipalKind } from '../../core/ports/authenticator.js';
import { UsageError } from '../run-cli.js';

/** The flags of `forge-pipeline token`. */
export interface TokenFlags {
  repository?: string;
  service?: boolean;
  subject?: string;
  ref?: string;
  audience?: string;
  ttl: number;
}

/**
 * What `forge-pipeline token` does: prints one bearer token signed by the embedded mode's
 * local issuer, with the key pair in `FORGE_LOCAL_ISSUER_DIR` and for the issuer on
 * 127.0.0.1:`FORGE_LOCAL_ISSUER_PORT`. Every check (mode, port, trusted issuer, repository)
 * comes before the key pair is touched, so a refused call leaves the folder as it was.
 */
export async function printToken(flags: TokenFlags): Promise<void> {
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
}

function requiredRepository(repository: string | undefined): string {
  if (repository === undefined) {
    throw new UsageError('--repository <owner/name> is required (or --service)');
  }
  return repository;
}
