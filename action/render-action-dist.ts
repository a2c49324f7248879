import { readdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import ts from 'typescript';

/** The action's TypeScript sources. */
export const ACTION_SOURCE_DIR = fileURLToPath(new URL('./src/', import.meta.url));
/** The committed JavaScript that action.yml runs. */
export const ACTION_DIST_DIR = fileURLToPath(new URL('./dist/', import.meta.url));

/**
 * Compiles `action/src/*.ts` into the JavaScript of `action/dist` (file name → text): type
 * annotations removed, ES2022 modules, formatted like the rest of the repository. GitHub runs the
 * action from a checkout of this repository without installing anything, so the JavaScript is
 * committed; `npm run build:action` writes it, and a test fails when it differs from this.
 */
export async function renderActionDist(): Promise<Map<string, string>> {
  const prettierConfig = (await prettier.resolveConfig(join(ACTION_SOURCE_DIR, 'main.ts'))) ?? {};
  const sources = (await readdir(ACTION_SOURCE_DIR))
    .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
    .sort();
  const files = new Map<string, string>();
  for (const name of sources) {
    const source = await readFile(join(ACTION_SOURCE_DIR, name), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: name,
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ES2022,
        verbatimModuleSyntax: true,
        removeComments: false,
      },
    });
    const output = `${basename(name, '.ts')}.js`;
    const header = '// Generated from action/src by `npm run build:action`; do not edit.\n';
    files.set(
      output,
      await prettier.format(header + outputText, { ...prettierConfig, parser: 'babel' }),
    );
  }
  return files;
}
