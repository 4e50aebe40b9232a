/** `npm run bench [-- --json] [-- filter]`: runs every test/bench/*.bench.ts. */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Bench, rssMiB } from './harness.js';

const json = process.argv.includes('--json');
const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const dir = dirname(fileURLToPath(import.meta.url));
const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort()
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));

const fmt = (v: number): string =>
  Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(3);

for (const file of files) {
  const bench = (await import(pathToFileURL(join(dir, file)).href)).default as Bench;
  if (!json) console.log(`\n${bench.title}  (${file})`);
  await bench.run((name, value, unit, note) => {
    if (json) console.log(JSON.stringify({ name, value, unit }));
    else console.log(`  ${name.padEnd(44)} ${fmt(value).padStart(14)} ${unit.padEnd(10)} ${note ?? ''}`);
  });
  const rss = rssMiB();
  const name = `${file.replace('.bench.ts', '')}.rss`;
  if (json) console.log(JSON.stringify({ name, value: Number(rss.toFixed(1)), unit: 'MiB' }));
  else console.log(`  ${name.padEnd(44)} ${rss.toFixed(1).padStart(14)} MiB        process RSS after this section`);
}
