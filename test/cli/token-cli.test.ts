import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JoseAuthenticator } from '../../adapters/auth/jose-authenticator.js';
import { LocalOidcIssuer } from '../../adapters/auth/local-oidc-issuer.js';
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
    const saved = { ...process.env };
    const run = (env: Record<string, string>, ...args: string[]) => {
      process.env = { ...saved, FORGE_LOCAL_ISSUER_DIR: directory, ...env };
      return tokenCommand()
        .exitOverride()
        .configureOutput({ writeErr: () => undefined })
        .parseAsync(args, { from: 'user' });
    };

    try {
      await expect(run({})).rejects.toThrow(UsageError);
      await expect(run({}, '--repository', 'acme/widgets', '--ttl', '3d')).rejects.toThrow(
        /from 1s to 24h/,
      );
      await expect(run({}, '--repository', 'not a repository')).rejects.toThrow(/owner\/name/);
      await expect(run({ FORGE_MODE: 'aws' }, '--repository', 'acme/widgets')).rejects.toThrow(
        /embedded mode only/,
      );
      await expect(run({ FORGE_LOCAL_ISSUER_PORT: '0' }, '--service')).rejects.toThrow(
        /FORGE_LOCAL_ISSUER_PORT is 0/,
      );
    } finally {
      process.env = saved;
    }
    expect(await readdir(directory)).toEqual([]);
  });
});
