/**
 * Writes a sample report from synthetic trades, to look at by eye:
 *   npx tsx test/backtest/render-sample.ts [TRADES=250] [OUT=/tmp/rustro-sample-report.html]
 * The JSON summary goes beside it (same name ending in .json).
 */
import { writeFileSync } from 'node:fs';
import { renderReport, summaryJsonText } from '../../src/backtest/report.js';
import { reportInput, syntheticTrades } from './fixtures.js';

const n = Number(process.argv[2] ?? 250);
const out = process.argv[3] ?? '/tmp/rustro-sample-report.html';
const input = reportInput(syntheticTrades(n));
writeFileSync(out, renderReport(input));
writeFileSync(out.replace(/\.html?$/, '') + '.json', summaryJsonText(input));
console.log(`wrote ${out} (${n} trades)`);
