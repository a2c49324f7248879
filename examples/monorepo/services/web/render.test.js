import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderPage } from './render.js';

test('renders the greeting as the heading', () => {
  assert.match(renderPage('Linus'), /<h1>Hello, Linus!<\/h1>/);
});
