#!/usr/bin/env python3
"""Independent reference for Supertrend(10, 3) and session VWAP (neither is in TA-Lib).

Python 3 + numpy only, written from the definitions (not from the TypeScript
classes), run once to write test/fixtures/indicators/<name>.stvwap.csv.gz
beside each <name>.talib.csv.gz that generate-talib.cjs wrote:

    python3 test/indicators/reference/supertrend_vwap.py

Supertrend(10, 3) uses TA-Lib's own ATR(10) column from the talib fixture, so
the only thing computed here is the band logic:
  basic upper/lower = (h + l) / 2 +/- 3 * ATR
  final upper = basic upper if basic upper < prev final upper or prev close > prev final upper, else prev final upper
  final lower = basic lower if basic lower > prev final lower or prev close < prev final lower, else prev final lower
  first bar with an ATR: final = basic, direction = 1 if close > hl2 else -1
  then: down -> up when close > final upper; up -> down when close < final lower
  value = final lower when up, final upper when down.

Session VWAP: sum(typical price * volume) / sum(volume) per IST calendar day
(day = floor((ts_ms + 19800000) / 86400000)); bars with no or zero volume add
nothing; empty until the day has volume.

Output columns: ts, st10_3, st10_3_dir, st10_3_upper, st10_3_lower, vwap
(empty cells where undefined; floats as Python repr, which round-trips).
"""
import csv
import gzip
import io
import pathlib
from datetime import datetime

import numpy as np

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "indicators"
PERIOD_ATR_COLUMN = "ATR_10"
MULT = 3.0
IST_MS = 19_800_000
DAY_MS = 86_400_000


def read(path):
    with gzip.open(path, "rt", newline="") as f:
        rows = list(csv.DictReader(f))
    num = lambda k: np.array([float(r[k]) if r[k] != "" else np.nan for r in rows])
    ts = np.array([int(round(datetime.fromisoformat(r["ts"]).timestamp() * 1000)) for r in rows], dtype=np.int64)
    return rows, ts, num("high"), num("low"), num("close"), num("volume"), num(PERIOD_ATR_COLUMN)


def supertrend(high, low, close, atr):
    n = len(close)
    hl2 = (high + low) / 2
    basic_up = hl2 + MULT * atr
    basic_lo = hl2 - MULT * atr
    up = np.full(n, np.nan)
    lo = np.full(n, np.nan)
    direction = np.zeros(n, dtype=int)
    defined = np.flatnonzero(~np.isnan(atr))
    if len(defined) == 0:
        return up, lo, direction, np.full(n, np.nan)
    first = defined[0]
    up[first], lo[first] = basic_up[first], basic_lo[first]
    direction[first] = 1 if close[first] > hl2[first] else -1
    for i in range(first + 1, n):
        up[i] = basic_up[i] if basic_up[i] < up[i - 1] or close[i - 1] > up[i - 1] else up[i - 1]
        lo[i] = basic_lo[i] if basic_lo[i] > lo[i - 1] or close[i - 1] < lo[i - 1] else lo[i - 1]
        d = direction[i - 1]
        if d == -1 and close[i] > up[i]:
            d = 1
        elif d == 1 and close[i] < lo[i]:
            d = -1
        direction[i] = d
    value = np.where(direction == 1, lo, np.where(direction == -1, up, np.nan))
    return up, lo, direction, value


def session_vwap(ts, high, low, close, volume):
    vol = np.where(np.isnan(volume), 0.0, volume)
    pv = (high + low + close) / 3 * vol
    day = (ts + IST_MS) // DAY_MS
    out = np.full(len(ts), np.nan)
    starts = np.flatnonzero(np.r_[True, day[1:] != day[:-1]])
    for s, e in zip(starts, np.r_[starts[1:], len(ts)]):
        cum_v = np.cumsum(vol[s:e])
        cum_pv = np.cumsum(pv[s:e])
        with np.errstate(invalid="ignore", divide="ignore"):
            out[s:e] = np.where(cum_v > 0, cum_pv / np.where(cum_v > 0, cum_v, 1), np.nan)
    return out


def cell(x):
    return "" if np.isnan(x) else repr(float(x))


def main():
    for src in sorted(FIXTURES.glob("*.talib.csv.gz")):
        rows, ts, high, low, close, volume, atr = read(src)
        up, lo, direction, value = supertrend(high, low, close, atr)
        vwap = session_vwap(ts, high, low, close, volume)
        buf = io.StringIO()
        buf.write("ts,st10_3,st10_3_dir,st10_3_upper,st10_3_lower,vwap\n")
        for i, r in enumerate(rows):
            d = "" if direction[i] == 0 else str(direction[i])
            buf.write(",".join([r["ts"], cell(value[i]), d, cell(up[i]), cell(lo[i]), cell(vwap[i])]) + "\n")
        out = src.with_name(src.name.replace(".talib.", ".stvwap."))
        out.write_bytes(gzip.compress(buf.getvalue().encode(), compresslevel=9, mtime=0))
        print(f"{out.relative_to(FIXTURES.parents[2])}: {len(rows)} bars, first supertrend at {int(np.argmax(direction != 0))}")


if __name__ == "__main__":
    main()
