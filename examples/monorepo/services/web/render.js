import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { greet } from '../../libs/greeting/index.js';

/** Renders the sample site's single page. */
export function renderPage(name) {
  return `<!doctype html><title>Forge sample</title><h1>${greet(name)}</h1>\n`;
}

const target = process.argv[2];
if (target) {
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, renderPage('web'));
  console.log(`wrote ${target}`);
}
