import { describe, expect, it } from 'vitest';
import { StepExecutorOptionsError } from './executor-errors.js';
import { SecretMasker } from './secret-masker.js';

/** Streams `chunks` through a masker; returns what the sink received, chunk by chunk. */
function streamThrough(masker: SecretMasker, chunks: readonly string[]): string[] {
  const received: string[] = [];
  const stream = masker.stream((masked) => received.push(masked));
  for (const chunk of chunks) stream.write(chunk);
  stream.end();
  return received;
}

describe('SecretMasker.maskText', () => {
  it('replaces every occurrence of every secret', () => {
    // Arrange
    const masker = new SecretMasker({ secrets: ['hunter22', 'p4ssw0rd'] });

    // Act
    const masked = masker.maskText('a hunter22 b p4ssw0rd c hunter22');

    // Assert
    expect(masked).toBe('a *** b *** c ***');
  });

  it('leaves values shorter than the minimum length alone', () => {
    // Arrange
    const masker = new SecretMasker({ secrets: ['abc', 'abcd'] });

    // Act
    const masked = masker.maskText('abc abcd');

    // Assert
    expect(masked).toBe('abc ***');
  });

  it('escapes regular expression characters in secrets', () => {
    // Arrange
    const masker = new SecretMasker({ secrets: ['a.b*c+(d)[e]$^|\\/'] });

    // Act
    const masked = masker.maskText('x a.b*c+(d)[e]$^|\\/ y aXb*c');

    // Assert
    expect(masked).toBe('x *** y aXb*c');
  });

  it('masks the longest secret when one contains another, and overlapping secrets as one', () => {
    // Arrange
    const masker = new SecretMasker({ secrets: ['token', 'token-long', 'long-tail'] });

    // Act
    const masked = masker.maskText('[token-long-tail] [token]');

    // Assert
    expect(masked).toBe('[***] [***]');
  });

  it('masks each line of a multi-line secret but not PEM armour', () => {
    // Arrange
    const pem =
      '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG\nw0BAQEFAASCBKcwggSj\n-----END PRIVATE KEY-----';
    const masker = new SecretMasker({ secrets: [pem] });

    // Act
    const masked = masker.maskText('line: w0BAQEFAASCBKcwggSj\r\n-----BEGIN PRIVATE KEY-----');

    // Assert
    expect(masked).toBe('line: ***\r\n-----BEGIN PRIVATE KEY-----');
  });

  it('returns the text unchanged without secrets', () => {
    // Arrange
    const masker = new SecretMasker({ secrets: [] });

    // Act
    const masked = masker.maskText('nothing to hide');

    // Assert
    expect(masked).toBe('nothing to hide');
    expect(masker.isEmpty).toBe(true);
  });

  it('refuses a minimum length below 1', () => {
    // Act / Assert
    expect(() => new SecretMasker({ secrets: [], minLength: 0 })).toThrow(StepExecutorOptionsError);
  });
});

describe('SecretMasker.stream', () => {
  it('masks a secret split across chunks at every possible point', () => {
    // Arrange
    const secret = 'sup3r-s3cret';
    const masker = new SecretMasker({ secrets: [secret] });
    const text = `before ${secret} after`;

    for (let cut = 1; cut < text.length; cut++) {
      // Act
      const received = streamThrough(masker, [text.slice(0, cut), text.slice(cut)]);

      // Assert
      expect(received.join('')).toBe('before *** after');
      for (const chunk of received) expect(chunk).not.toMatch(/sup3r|s3cret/);
    }
  });

  it('masks a secret split into single characters', () => {
    // Arrange
    const masker = new SecretMasker({ secrets: ['abcdef', 'cdxy'] });

    // Act
    const received = streamThrough(masker, [...'1abcdef2cdxy3abc']);

    // Assert
    expect(received.join('')).toBe('1***2***3abc');
  });

  it('passes ordinary output through at once, holding back only a possible secret start', () => {
    // Arrange
    const masker = new SecretMasker({ secrets: ['a-very-long-secret-value'] });
    const received: string[] = [];
    const stream = masker.stream((masked) => received.push(masked));

    // Act
    stream.write('first line\n');
    const afterFirst = received.join('');
    stream.write('then a-very');
    const afterPrefix = received.join('');

    // Assert
    expect(afterFirst).toBe('first line\n');
    expect(afterPrefix).toBe('first line\nthen ');
  });

  it('flushes a held tail that never became a secret on end', () => {
    // Arrange
    const masker = new SecretMasker({ secrets: ['secret-value'] });

    // Act
    const received = streamThrough(masker, ['ends with secret-']);

    // Assert
    expect(received.join('')).toBe('ends with secret-');
  });

  it('ignores writes after end', () => {
    // Arrange
    const masker = new SecretMasker({ secrets: ['secret-value'] });
    const received: string[] = [];
    const stream = masker.stream((masked) => received.push(masked));

    // Act
    stream.write('a');
    stream.end();
    stream.write('secret-value');
    stream.end();

    // Assert
    expect(received).toEqual(['a']);
  });

  it('masks a large output with many secrets quickly', () => {
    // Arrange
    const secrets = Array.from({ length: 50 }, (_, index) => `secret-${index}-${'x'.repeat(20)}`);
    const masker = new SecretMasker({ secrets });
    const line = `log line with ${secrets[7]} and ordinary words\n`;
    const chunks = Array.from({ length: 5000 }, () => line);
    const startedAt = performance.now();

    // Act
    const received = streamThrough(masker, chunks).join('');

    // Assert
    expect(received).not.toContain('secret-7');
    expect(received.split('***').length - 1).toBe(5000);
    expect(performance.now() - startedAt).toBeLessThan(2000);
  });
});
