import { RemovalPolicy } from 'aws-cdk-lib';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

/**
 * The Secrets Manager secrets the platform itself needs, named `forge/<stage>/...`. The stack
 * creates them with a random placeholder value (never a value in the template); the operator
 * writes the real ones once (docs/deploy.md). Each is granted only to the identities that read
 * it: the database URL to the API and the reconciler, the GitHub token to the GitHub fan-out, the BuildKit runners' TLS material to the task pool. Encrypted with the account's
 * `aws/secretsmanager` key, so readers need no KMS grant. Production stages retain them.
 */
export class ForgeSecrets extends Construct {
  /** `DATABASE_URL` of the control plane's Postgres. */
  readonly databaseUrl: Secret;
  /** The GitHub token the fan-out writes statuses and comments with (`FORGE_GITHUB_TOKEN_SECRET`). */
  readonly githubToken: Secret;
  /** The BuildKit runners' CA certificate, client certificate and client key (PEM text). */
  readonly buildkitTls: { readonly ca: Secret; readonly cert: Secret; readonly key: Secret };

  constructor(
    scope: Construct,
    id: string,
    props: { readonly stage: string; readonly retainData: boolean },
  ) {
    super(scope, id);
    const secret = (constructId: string, name: string, description: string) =>
      new Secret(this, constructId, {
        secretName: `forge/${props.stage}/${name}`,
        description,
        removalPolicy: props.retainData ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      });
    this.databaseUrl = secret(
      'DatabaseUrl',
      'database-url',
      'DATABASE_URL of the Catalyst Forge control plane (postgres://...); set after the first deploy',
    );
    this.githubToken = secret(
      'GitHubToken',
      'github-token',
      'GitHub token (or {"token": "..."}) of the Catalyst Forge status fan-out; set after the first deploy',
    );
    this.buildkitTls = {
      ca: secret('BuildkitTlsCa', 'buildkit/ca', 'CA certificate (PEM) of the BuildKit runners'),
      cert: secret('BuildkitTlsCert', 'buildkit/cert', 'Client certificate (PEM) for BuildKit'),
      key: secret('BuildkitTlsKey', 'buildkit/key', 'Client private key (PEM) for BuildKit'),
    };
  }
}
