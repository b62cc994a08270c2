// `npm run build` step two: tsc emits only JavaScript, but the runtime also reads data files beside
// its modules (profiles, rule library, sample grids). Copy them so `node dist/cli/main.js` runs alone.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const ASSET = /\.(ya?ml|geojson|json|py)$/;
const ROOTS = ['device-profiles', 'rules/library', 'demo', 'firmware-specs', 'edge/cameras/onvif'];

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : ASSET.test(name) ? [p] : [];
  });
}

let n = 0;
for (const root of ROOTS) {
  for (const file of walk(root)) {
    cpSync(file, join('dist', relative('.', file)));
    n++;
  }
}
process.stdout.write(`copied ${n} data file(s) into dist/\n`);
