// `gridsense`: the command tree (cli/program.ts) run on process.argv; a GsError ends it with code 2.
import { isGsError } from '../contracts/errors.js';
import { buildProgram } from './program.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (isGsError(err)) {
    process.stderr.write(`${err.describe()}\n`);
    process.exit(2);
  }
  throw err;
}
