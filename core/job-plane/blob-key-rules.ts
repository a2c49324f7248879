/**
 * The keys every blob store accepts (DESIGN.md section 5). The rules make one key mean the same
 * blob on S3 and in the embedded folder, and keep a key from escaping its bucket's folder:
 * `/`-separated segments, none empty, none starting with `.` (so no `.` or `..`, and dot-names
 * stay free for the adapters' own bookkeeping), no backslash or control character, at most
 * 1024 bytes of UTF-8 (S3's limit).
 */

/** S3's longest key, in bytes of UTF-8. */
export const MAX_BLOB_KEY_BYTES = 1024;

// eslint-disable-next-line no-control-regex
const FORBIDDEN_CHARACTERS = /[\\\u0000-\u001f\u007f]/;

/** Why `key` cannot name a blob, or `undefined` when it can. */
export function blobKeyProblem(key: string): string | undefined {
  if (key.length === 0) return 'the key is empty';
  if (new TextEncoder().encode(key).length > MAX_BLOB_KEY_BYTES) {
    return `the key is longer than ${MAX_BLOB_KEY_BYTES} bytes`;
  }
  if (FORBIDDEN_CHARACTERS.test(key)) return 'the key holds a backslash or a control character';
  if (key.startsWith('/')) return 'the key is absolute (starts with "/")';
  for (const segment of key.split('/')) {
    if (segment.length === 0) return 'the key has an empty segment ("//" or a trailing "/")';
    if (segment.startsWith('.')) return `the key has a segment starting with ".": "${segment}"`;
  }
  return undefined;
}
