import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JoseAuthenticator } from '../../adapters/auth/jose-authenticator.js';
import { LocalOidcIssuer } from '../../adapters/auth/local-oidc-issuer.js';
import { MAX_LOCAL_TOKEN_TTL_SECONDS } from '../../adapters/auth/local-token-signer.js';
import { loadAuthConfig } from '../../config/auth-environment.js';
import { PrincipalKind } from '../../core/ports/authenticator.js';
import { freePort } from '../auth/local-issuer-fixture.js';
import { tokenCommand } from '../../cli/commands/token.js';
import { UsageError } from '../../cli/run-cli.js';
import { runCommand } from '../support/run-command.js';

let directory: string;
let issuer: LocalOidcIssuer | undefined;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), 'forge-token-cli-'));
});

afterEach(async () => {
  await issuer?.close();
  issuer = undefined;
  await rm(directory, { recursive: true, force: true });
});

/**
 * Runs `forge-pipeline token` in this process with `env` over this process's environment, for
 * the checks that come before signing: they need no process of their own.
 */
async function tokenInProcess(env: Record<string, string>, ...args: string[]): Promise<void> {
  const saved = { ...process.env };
  process.env = { ...saved, FORGE_LOCAL_ISSUER_DIR: directory, ...env };
  try {
    await tokenCommand()
      .exitOverride()
      .configureOutput({ writeErr: () => undefined })
      .parseAsync(args, { from: 'user' });
  } finally {
    process.env = saved;
  }
}

describe('forge-pipeline token', () => {
  it('prints tokens, signed while no server runs, that the embedded server then accepts', async () => {
    const env = {
      FORGE_MODE: 'embedded',
      FORGE_LOCAL_ISSUER_DIR: directory,
      FORGE_LOCAL_ISSUER_PORT: String(await freePort()),
    };

    const [githubRun, serviceRun] = await Promise.all([
      runCommand('forge-pipeline', ['token', '--repository', 'acme/widgets', '--ttl', '10m'], {
        env,
      }),
      runCommand(
        'forge-pipeline',
        ['token', '--service', '--subject', 'system:serviceaccount:forge:w'],
        {
          env,
        },
      ),
    ]);

    expect(githubRun).toMatchObject({ code: 0, stderr: '' });
    expect(serviceRun).toMatchObject({ code: 0, stderr: '' });
    const config = loadAuthConfig(env);
    issuer = await LocalOidcIssuer.start({
      directory: config.localIssuer.directory,
      port: config.localIssuer.port,
    });
    const authenticator = JoseAuthenticator.fromConfig(config);
    const principal = await authenticator.authenticate(
      `Bearer ${githubRun.stdout.trim()}`,
      PrincipalKind.githubActions,
    );
    expect(principal).toMatchObject({ kind: 'github-actions', repository: 'acme/widgets' });
    expect(Number(principal.claims['exp']) - Number(principal.claims['iat'])).toBe(600);
    await expect(
      authenticator.authenticate(`Bearer ${serviceRun.stdout.trim()}`, PrincipalKind.service),
    ).resolves.toMatchObject({ kind: 'service', subject: 'system:serviceaccount:forge:w' });
  });

  it('refuses a missing repository, a bad lifetime and the aws mode before signing', async () => {
    // Act / Assert
    await expect(tokenInProcess({})).rejects.toThrow(UsageError);
    await expect(tokenInProcess({}, '--repository', 'acme/widgets', '--ttl', '3d')).rejects.toThrow(
      /from 1s to 24h/,
    );
    await expect(tokenInProcess({}, '--repository', 'not a repository')).rejects.toThrow(
      /owner\/name/,
    );
    await expect(
      tokenInProcess({ FORGE_MODE: 'aws' }, '--repository', 'acme/widgets'),
    ).rejects.toThrow(/embedded mode only/);
    await expect(tokenInProcess({ FORGE_LOCAL_ISSUER_PORT: '0' }, '--service')).rejects.toThrow(
      /FORGE_LOCAL_ISSUER_PORT is 0/,
    );
    expect(await readdir(directory)).toEqual([]);
  });

  it("takes a lifetime up to the local signer's limit and none longer", async () => {
    // Arrange: in the aws mode a lifetime the option takes stops at the mode check, unsigned.
    const aws = { FORGE_MODE: 'aws' };
    const ttl = (seconds: number) => ['--repository', 'acme/widgets', '--ttl', `${seconds}s`];

    // Act / Assert
    await expect(tokenInProcess(aws, ...ttl(MAX_LOCAL_TOKEN_TTL_SECONDS))).rejects.toThrow(
      /embedded mode only/,
    );
    await expect(tokenInProcess(aws, ...ttl(MAX_LOCAL_TOKEN_TTL_SECONDS + 1))).rejects.toThrow(
      /from 1s to 24h/,
    );
  });
});
