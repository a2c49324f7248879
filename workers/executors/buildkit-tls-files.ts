import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { errorMessage } from '../../core/errors.js';
import type { SecretStore } from '../../core/ports/secret-store.js';
import { isTransientError } from '../../core/retry.js';
import { BuildkitTlsMaterialError } from './executor-errors.js';

/** Options of {@link BuildkitTlsFiles}: where the PEM texts live in the secret store, and the folder. */
export interface BuildkitTlsFilesOptions {
  /** The store the PEM texts are read from (Secrets Manager in production). */
  readonly store: SecretStore;
  /** Secret path of the CA certificate that signed the runners' certificates. */
  readonly caCertPath: string;
  /** Secret path of the client certificate the CLI presents. */
  readonly clientCertPath: string;
  /** Secret path of the client certificate's private key. */
  readonly clientKeyPath: string;
  /** A private folder for the files (created 0700); default a new `forge-buildkit-tls-*` temp folder. */
  readonly directory?: string;
}

/** The files written, and the secret values (to mask them in output). */
export interface BuildkitTlsConfig {
  /** An Earthly config file (`--config`) enabling TLS with the three files below. */
  readonly configFile: string;
  readonly caCertFile: string;
  readonly clientCertFile: string;
  readonly clientKeyFile: string;
  readonly secretValues: readonly string[];
}

/** What the Earthly executor needs from TLS material: files ready to pass to the CLI. */
export interface BuildkitTlsSource {
  prepare(): Promise<BuildkitTlsConfig>;
}

/**
 * The BuildKit client certificates, read from the secret store and written ONCE to a private
 * folder (0700, files 0600) on first use, then reused by every step of the process. Earthly and
 * EarthBuild take TLS files from their config file, not from flags (`global.tls_enabled`,
 * `tlsca`, `tlscert`, `tlskey`), so an Earthly config with exactly these keys is written beside
 * them (as JSON, which YAML reads) and passed with `--config`. Concurrent first calls share one
 * preparation; a failed one is not remembered, so the next step tries again.
 */
export class BuildkitTlsFiles implements BuildkitTlsSource {
  private preparation: Promise<BuildkitTlsConfig> | undefined;
  /** The folder this instance created (a temp folder), removed whole by `close`. */
  private createdDirectory: string | undefined;
  private closed = false;

  constructor(private readonly options: BuildkitTlsFilesOptions) {}

  /** The written files: read and written on the first call, the same files afterwards. */
  prepare(): Promise<BuildkitTlsConfig> {
    if (this.closed)
      return Promise.reject(new BuildkitTlsMaterialError('the TLS files are closed'));
    this.preparation ??= this.write().catch((error: unknown) => {
      this.preparation = undefined;
      throw error;
    });
    return this.preparation;
  }

  /**
   * Deletes the files (and the temp folder, when this instance made it); call at worker shutdown,
   * after the last step. Idempotent; `prepare` fails afterwards.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const written = await this.preparation?.catch(() => undefined);
    if (this.createdDirectory !== undefined) {
      await rm(this.createdDirectory, { recursive: true, force: true });
    } else if (written !== undefined) {
      const files = [
        written.caCertFile,
        written.clientCertFile,
        written.clientKeyFile,
        written.configFile,
      ];
      await Promise.all(files.map((file) => rm(file, { force: true })));
    }
  }

  private async write(): Promise<BuildkitTlsConfig> {
    const { store } = this.options;
    const paths = [
      this.options.caCertPath,
      this.options.clientCertPath,
      this.options.clientKeyPath,
    ];
    const [caCert, clientCert, clientKey] = await Promise.all(
      paths.map((path) =>
        store.get(path).catch((error: unknown) => {
          throw new BuildkitTlsMaterialError(`cannot read secret ${path}: ${errorMessage(error)}`, {
            cause: error,
            retryable: isTransientError(error),
          });
        }),
      ),
    );
    if (caCert === undefined || clientCert === undefined || clientKey === undefined) {
      throw new BuildkitTlsMaterialError('the secret store returned no value');
    }
    try {
      const directory = await this.privateDirectory();
      const files = {
        caCertFile: join(directory, 'ca.pem'),
        clientCertFile: join(directory, 'cert.pem'),
        clientKeyFile: join(directory, 'key.pem'),
        configFile: join(directory, 'earthly-config.yml'),
      };
      const config = {
        global: {
          tls_enabled: true,
          tlsca: files.caCertFile,
          tlscert: files.clientCertFile,
          tlskey: files.clientKeyFile,
        },
      };
      await writePrivateFile(files.caCertFile, caCert);
      await writePrivateFile(files.clientCertFile, clientCert);
      await writePrivateFile(files.clientKeyFile, clientKey);
      await writePrivateFile(files.configFile, `${JSON.stringify(config, null, 2)}\n`);
      return { ...files, secretValues: [caCert, clientCert, clientKey] };
    } catch (error) {
      throw new BuildkitTlsMaterialError(`cannot write the TLS files: ${errorMessage(error)}`, {
        cause: error,
      });
    }
  }

  private async privateDirectory(): Promise<string> {
    if (this.options.directory === undefined) {
      this.createdDirectory ??= await mkdtemp(join(tmpdir(), 'forge-buildkit-tls-')); // 0700
      return this.createdDirectory;
    }
    const directory = resolve(this.options.directory);
    await mkdir(directory, { recursive: true, mode: 0o700 });
    await chmod(directory, 0o700);
    return directory;
  }
}

/** Writes a new file readable by its owner only (a file left by an earlier process is replaced). */
async function writePrivateFile(file: string, content: string): Promise<void> {
  await rm(file, { force: true });
  await writeFile(file, content, { mode: 0o600, flag: 'wx' });
}
