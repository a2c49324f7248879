// Generated from action/src by `npm run build:action`; do not edit.
/**
 * Entry point of the GitHub Action (action.yml runs the compiled `action/dist/main.js`).
 */
import { runAction } from './run-action.js';
process.exitCode = await runAction(process.env, { stdout: (text) => process.stdout.write(text) });
