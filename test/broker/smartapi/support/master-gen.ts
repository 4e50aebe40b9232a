/** Generates an instrument master in the real file's shape (§10), streamed in chunks. */
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

export type GenOptions = { options: number; badEvery?: number };

/** One master row text per call: index rows, NIFTY/BANKNIFTY weekly options across expiries, futures, equities, MCX rows. */
export function* masterRows(opts: GenOptions): Generator<string> {
  yield '{"token":"99926000","symbol":"Nifty 50","name":"NIFTY","expiry":"","strike":"0.000000","lotsize":"1","instrumenttype":"AMXIDX","exch_seg":"NSE","tick_size":"0.000000"}';
  yield '{"token":"99926009","symbol":"Nifty Bank","name":"BANKNIFTY","expiry":"","strike":"0.000000","lotsize":"1","instrumenttype":"AMXIDX","exch_seg":"NSE","tick_size":"0.000000"}';
  let token = 30000;
  for (let i = 0; i < opts.options; i++) {
    // Unique (underlying, expiry, strike, type) for up to 40 × 2500 rows: 40 expiries, 625 strikes each side.
    const j = i % 2500;
    const under = j % 2 === 0 ? 'NIFTY' : 'BANKNIFTY';
    const e = Math.floor(i / 2500) % 40;
    const day = 1 + (e % 28);
    const mon = MONTHS[Math.floor(e / 4) % 12]!;
    const yy = 24 + Math.floor(e / 48);
    const strike = (under === 'NIFTY' ? 18000 : 40000) + 50 * (j >> 2);
    const type = (j >> 1) % 2 === 0 ? 'CE' : 'PE';
    const dd = String(day).padStart(2, '0');
    token++;
    if (opts.badEvery !== undefined && i % opts.badEvery === opts.badEvery - 1) {
      yield `{"token":"${token}","symbol":"${under}${dd}${mon}${yy}${strike}${type}","name":"${under}","expiry":"31FEB20${yy}","strike":"${strike * 100}.000000","lotsize":"50","instrumenttype":"OPTIDX","exch_seg":"NFO","tick_size":"5.000000"}`;
      continue;
    }
    yield `{"token":"${token}","symbol":"${under}${dd}${mon}${yy}${strike}${type}","name":"${under}","expiry":"${dd}${mon}20${yy}","strike":"${strike * 100}.000000","lotsize":"${under === 'NIFTY' ? 75 : 30}","instrumenttype":"OPTIDX","exch_seg":"NFO","tick_size":"5.000000","freeze_qty":"${under === 'NIFTY' ? 1801 : 901}"}`;
  }
  yield '{"token":"35001","symbol":"NIFTY30JAN25FUT","name":"NIFTY","expiry":"30JAN2025","strike":"-1.000000","lotsize":"75","instrumenttype":"FUTIDX","exch_seg":"NFO","tick_size":"10.000000"}';
  yield '{"token":"35002","symbol":"NIFTY26DEC24FUT","name":"NIFTY","expiry":"26DEC2024","strike":"-1.000000","lotsize":"75","instrumenttype":"FUTIDX","exch_seg":"NFO","tick_size":"10.000000"}';
  yield '{"token":"3045","symbol":"SBIN-EQ","name":"SBIN","expiry":"","strike":"-1.000000","lotsize":"1","instrumenttype":"","exch_seg":"NSE","tick_size":"5.000000"}';
  yield '{"token":"440001","symbol":"GOLD30OCT26FUT","name":"GOLD","expiry":"30OCT2026","strike":"-1.000000","lotsize":"1","instrumenttype":"FUTCOM","exch_seg":"MCX","tick_size":"100.000000"}';
}

/** The master as a formatted JSON array in chunks of about `chunk` characters (the real file: one object per line). */
export async function* masterChunks(opts: GenOptions, chunk = 64 * 1024): AsyncGenerator<string> {
  let buf = '[\n';
  let first = true;
  for (const row of masterRows(opts)) {
    buf += (first ? '' : ',\n') + row;
    first = false;
    if (buf.length >= chunk) {
      yield buf;
      buf = '';
    }
  }
  yield buf + '\n]\n';
}
