/**
 * Files that ship with Rustro (package.json, config/calendar, data/market),
 * found from the running module whatever folder it was built into: src/
 * under tsx, dist/ after a build, or a deeper build folder (the benchmarks'
 * compiled copy), so no module assumes how deep it sits.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
/** The layout does not move while the process runs: each path is looked up once (a backtest asked every day). */
const found = new Map<string, string>();

/** `rel` (e.g. 'data/market') in the nearest folder above this module that has it. */
export function findRepoPath(rel: string): string {
  let path = found.get(rel);
  if (path === undefined) found.set(rel, (path = searchUp(rel)));
  return path;
}

function searchUp(rel: string): string {
  let dir = here;
  for (let i = 0; i < 8; i++) {
    const p = join(dir, rel);
    if (existsSync(p)) return p;
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  throw new Error(`cannot find '${rel}' above ${here}`);
}
