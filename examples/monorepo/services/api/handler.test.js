import assert from 'node:assert/strict';
import { test } from 'node:test';
import { handle } from './handler.js';

test('answers with a greeting', () => {
  assert.deepEqual(handle({ name: 'Grace' }), { status: 200, body: { message: 'Hello, Grace!' } });
});

test('refuses a blank name', () => {
  assert.equal(handle({ name: ' ' }).status, 400);
});
