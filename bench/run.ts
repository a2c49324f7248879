/**
 * `npm run bench [-- NAME...]`: runs every benchmark suite in this folder (or those whose
 * name contains one of the given words) and prints the figures with their targets.
 */
import { readdir } from 'node:fs/promises';
import { basename } from 'node:path';
import type { BenchFigure, BenchSuite } from './harness.js';

const filters = process.argv.slice(2);
const folder = import.meta.dirname;
const files = (await readdir(folder)).filter((file) => file.endsWith('.bench.ts')).sort();

const figures: (BenchFigure & { suite: string })[] = [];
for (const file of files) {
  const module = (await import(`./${file}`)) as { default: BenchSuite };
  const suite = module.default;
  if (filters.length > 0 && !filters.some((word) => suite.name.includes(word))) continue;
  console.log(`\n== ${suite.name} (${basename(file)})`);
  await suite.run({
    report(figure) {
      figures.push({ ...figure, suite: suite.name });
      const verdict = figure.met === undefined ? '' : figure.met ? '  [target met]' : '  [MISSED]';
      const target = figure.target ? `  (target ${figure.target})` : '';
      console.log(`  ${figure.label}: ${formatValue(figure)}${target}${verdict}`);
    },
    note(message) {
      console.log(`  . ${message}`);
    },
  });
}

console.log('\n== summary');
for (const figure of figures) {
  const target = figure.target
    ? ` (target ${figure.target}${figure.met ? ', met' : ', MISSED'})`
    : '';
  console.log(`${figure.suite} | ${figure.label} | ${formatValue(figure)}${target}`);
}

function formatValue(figure: BenchFigure): string {
  const digits = figure.unit === 'x' ? 2 : figure.value < 10 ? 2 : 0;
  return `${figure.value.toFixed(digits)} ${figure.unit}`;
}
