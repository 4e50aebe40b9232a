/**
 * `npm run bench [-- --json] [-- filter]`: runs every test/bench/*.bench.ts,
 * each in its own process, so one section's heap and JIT state do not skew the
 * next and each RSS figure is that section's own.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Bench, rssMiB } from './harness.js';

const json = process.argv.includes('--json');
const dir = dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);

const fmt = (v: number): string =>
  Math.abs(v) >= 1000 ? Math.round(v).toLocaleString('en-US') : v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(3);

type Figure = { name: string; value: number; unit: string; note?: string };

/** Child mode: run one bench file and print its figures as JSON lines. */
async function runOne(file: string): Promise<void> {
  const bench = (await import(pathToFileURL(join(dir, file)).href)).default as Bench;
  const emit = (f: Figure): void => void process.stdout.write(JSON.stringify(f) + '\n');
  emit({ name: '#title', value: 0, unit: '', note: bench.title });
  await bench.run((name, value, unit, note) => emit({ name, value, unit, ...(note === undefined ? {} : { note }) }));
  emit({ name: `${file.replace('.bench.ts', '')}.rss`, value: Number(rssMiB().toFixed(1)), unit: 'MiB', note: 'peak-ish: process RSS at the end of this section' });
}

const only = process.argv.indexOf('--only');
if (only >= 0) {
  await runOne(process.argv[only + 1]!);
} else {
  const filters = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const files = readdirSync(dir).filter((f) => f.endsWith('.bench.ts')).sort()
    .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
  for (const file of files) {
    const out = execFileSync(process.execPath, [...process.execArgv, self, '--only', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    for (const line of out.split('\n')) {
      if (line.trim() === '') continue;
      const f = JSON.parse(line) as Figure;
      if (f.name === '#title') {
        if (!json) console.log(`\n${f.note}  (${file})`);
      } else if (json) {
        console.log(JSON.stringify({ name: f.name, value: f.value, unit: f.unit }));
      } else {
        console.log(`  ${f.name.padEnd(34)} ${fmt(f.value).padStart(14)} ${f.unit.padEnd(10)} ${f.note ?? ''}`);
      }
    }
  }
}
