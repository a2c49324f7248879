import { randomUUID } from 'node:crypto';
import { chmod, link, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  type CryptoKey,
  type JWK,
} from 'jose';
import { z } from 'zod';
import { AuthError } from '../../core/ports/authenticator.js';

/** The one algorithm the local issuer signs with. */
export const LOCAL_SIGNING_ALGORITHM = 'RS256';
/** The file of the key pairs inside the issuer's folder. */
export const SIGNING_KEYS_FILE = 'signing-keys.json';
/** Keys kept after a rotation: the new one signs, the previous one still verifies. */
const KEPT_KEYS = 2;

const StoredKeysSchema = z.object({
  keys: z
    .array(
      z.object({
        kid: z.string().min(1),
        jwk: z.looseObject({ kty: z.literal('RSA'), d: z.string() }),
      }),
    )
    .min(1),
});
type StoredKey = z.infer<typeof StoredKeysSchema>['keys'][number];

/** The local issuer's key folder holds something that is not a key set of ours. */
export class SigningKeysUnreadableError extends AuthError {}

/** A private key ready to sign, with its key id. */
export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
}

/**
 * The RSA key pairs of the embedded mode's local issuer, persisted as private JWKs in
 * `<directory>/signing-keys.json` (folder 0700, file 0600) so that every process on the machine
 * (the server, `forge-pipeline token`) signs and verifies with the same keys. The newest key
 * signs; after {@link rotate} the previous one stays published until the next rotation.
 */
export class LocalSigningKeys {
  readonly #file: string;
  #keys: readonly StoredKey[];

  private constructor(file: string, keys: readonly StoredKey[]) {
    this.#file = file;
    this.#keys = keys;
  }

  /**
   * Reads the keys of `directory`, creating the folder and a first key pair when there are
   * none. Two processes creating it at once end up with the same key: the file is linked into
   * place only if absent, and the loser reads the winner's.
   */
  static async open(directory: string): Promise<LocalSigningKeys> {
    await mkdir(directory, { recursive: true, mode: 0o700 });
    const file = join(directory, SIGNING_KEYS_FILE);
    const existing = await readKeys(file);
    if (existing) return new LocalSigningKeys(file, existing);
    const created = [await newKey()];
    const temporary = `${file}.${randomUUID()}.tmp`;
    await writePrivate(temporary, created);
    try {
      await link(temporary, file);
      return new LocalSigningKeys(file, created);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const winner = await readKeys(file);
      if (!winner) throw new SigningKeysUnreadableError(`${file} vanished while being created`);
      return new LocalSigningKeys(file, winner);
    } finally {
      await rm(temporary, { force: true });
    }
  }

  /** The key that signs new tokens. */
  async current(): Promise<SigningKey> {
    const [newest] = this.#keys as [StoredKey, ...StoredKey[]];
    const privateKey = await importJWK(newest.jwk as JWK, LOCAL_SIGNING_ALGORITHM);
    return { kid: newest.kid, privateKey: privateKey as CryptoKey };
  }

  /** The public halves of every kept key, as a JWKS document. */
  publicKeySet(): { keys: JWK[] } {
    return {
      keys: this.#keys.map(({ kid, jwk }) => ({
        kty: 'RSA',
        n: jwk['n'] as string,
        e: jwk['e'] as string,
        kid,
        alg: LOCAL_SIGNING_ALGORITHM,
        use: 'sig',
      })),
    };
  }

  /** Makes a new key the signing key, keeping the previous one published; persisted at once. */
  async rotate(): Promise<string> {
    const keys = [await newKey(), ...this.#keys].slice(0, KEPT_KEYS);
    const temporary = `${this.#file}.${randomUUID()}.tmp`;
    await writePrivate(temporary, keys);
    await rename(temporary, this.#file);
    this.#keys = keys;
    return (keys[0] as StoredKey).kid;
  }
}

async function newKey(): Promise<StoredKey> {
  const { privateKey } = await generateKeyPair(LOCAL_SIGNING_ALGORITHM, {
    modulusLength: 2048,
    extractable: true,
  });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, jwk: { ...jwk, kty: 'RSA', d: jwk.d as string } };
}

async function readKeys(file: string): Promise<readonly StoredKey[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return StoredKeysSchema.parse(JSON.parse(text)).keys;
  } catch (error) {
    throw new SigningKeysUnreadableError(`${file} is not a signing key set: remove it`, {
      cause: error,
    });
  }
}

async function writePrivate(file: string, keys: readonly StoredKey[]): Promise<void> {
  await writeFile(file, `${JSON.stringify({ keys })}\n`, { mode: 0o600, flag: 'wx' });
  await chmod(file, 0o600);
}
