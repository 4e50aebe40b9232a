/**
 * The bundled real market data (data/market/*.csv.gz): 1-minute index bars,
 * split per IST session, and the INDIA VIX daily file. Files are parsed once
 * per process and cached by path; a malformed line is an error naming the
 * file and line, never a silently skipped row.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { SimBar } from './types.js';

const HEADER = 'ts,open,high,low,close,volume';

/** 1-minute bars of one index, per IST session in date order. */
export type BarSeries = {
  readonly file: string;
  /** Session dates (YYYY-MM-DD), ascending. */
  readonly days: readonly string[];
  readonly byDay: ReadonlyMap<string, readonly SimBar[]>;
};

/** A daily OHLC row (INDIA VIX). */
export type DailyRow = { day: string; open: number; high: number; low: number; close: number };

function readText(file: string): string {
  const raw = readFileSync(file);
  return (file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
}

function num(s: string | undefined, file: string, line: number, col: string): number {
  const v = Number(s);
  if (s === undefined || s === '' || !Number.isFinite(v)) throw new Error(`${file}:${line}: bad ${col} '${s ?? ''}'`);
  return v;
}

/** Parses a `ts,open,high,low,close,volume` CSV (ts ISO-8601 with +05:30, bar start). */
export function parseMinuteCsv(text: string, file: string): BarSeries {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== HEADER) throw new Error(`${file}:1: expected header '${HEADER}', got '${lines[0] ?? ''}'`);
  const byDay = new Map<string, SimBar[]>();
  let lastTs = -Infinity;
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const c = line.split(',');
    if (c.length !== 6) throw new Error(`${file}:${i + 1}: expected 6 columns, got ${c.length}`);
    const iso = c[0]!;
    if (!iso.endsWith('+05:30')) throw new Error(`${file}:${i + 1}: timestamp '${iso}' is not IST (+05:30)`);
    const ts = Date.parse(iso);
    if (!Number.isFinite(ts)) throw new Error(`${file}:${i + 1}: bad timestamp '${iso}'`);
    if (ts <= lastTs) throw new Error(`${file}:${i + 1}: timestamps not strictly increasing at '${iso}'`);
    lastTs = ts;
    const bar: SimBar = {
      ts,
      open: num(c[1], file, i + 1, 'open'),
      high: num(c[2], file, i + 1, 'high'),
      low: num(c[3], file, i + 1, 'low'),
      close: num(c[4], file, i + 1, 'close'),
      // Index files carry no volume (empty column): an index has none.
      volume: c[5] === '' ? 0 : num(c[5], file, i + 1, 'volume'),
    };
    if (!(bar.high >= Math.max(bar.open, bar.close) && bar.low <= Math.min(bar.open, bar.close))) {
      throw new Error(`${file}:${i + 1}: inconsistent OHLC ${bar.open}/${bar.high}/${bar.low}/${bar.close}`);
    }
    const day = iso.slice(0, 10);
    let list = byDay.get(day);
    if (list === undefined) byDay.set(day, (list = []));
    list.push(bar);
  }
  return { file, days: [...byDay.keys()], byDay };
}

/** Parses a daily `ts,open,high,low,close,volume` CSV (ts `YYYY-MM-DDT00:00:00+05:30`). */
export function parseDailyCsv(text: string, file: string): DailyRow[] {
  const lines = text.split(/\r?\n/);
  if (lines[0]?.trim() !== HEADER) throw new Error(`${file}:1: expected header '${HEADER}', got '${lines[0] ?? ''}'`);
  const out: DailyRow[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const c = line.split(',');
    const day = c[0]?.slice(0, 10) ?? '';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new Error(`${file}:${i + 1}: bad date '${c[0] ?? ''}'`);
    out.push({ day, open: num(c[1], file, i + 1, 'open'), high: num(c[2], file, i + 1, 'high'), low: num(c[3], file, i + 1, 'low'), close: num(c[4], file, i + 1, 'close') });
  }
  return out;
}

const minuteCache = new Map<string, BarSeries>();
const dailyCache = new Map<string, DailyRow[]>();

/** Loads (once per process) a 1-minute bar file, gzip'd or plain. */
export function loadMinuteBars(file: string): BarSeries {
  let s = minuteCache.get(file);
  if (s === undefined) minuteCache.set(file, (s = parseMinuteCsv(readText(file), file)));
  return s;
}

/** Loads (once per process) a daily bar file, gzip'd or plain. */
export function loadDailyBars(file: string): DailyRow[] {
  let s = dailyCache.get(file);
  if (s === undefined) dailyCache.set(file, (s = parseDailyCsv(readText(file), file)));
  return s;
}
