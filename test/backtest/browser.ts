/**
 * Headless Chromium screenshots for the report tests: find the binary, render
 * an HTML file to a PNG, decode it.
 */
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodePng, type Image } from './png.js';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/**
 * The Chromium binary: $RUSTRO_CHROMIUM if set (and only it, so a bad path
 * means "none"), else /usr/bin/chromium, else the first of NAMES on $PATH.
 */
export function findChromium(): string | undefined {
  const candidates = process.env.RUSTRO_CHROMIUM ? [process.env.RUSTRO_CHROMIUM] : [
    '/usr/bin/chromium',
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean).flatMap((dir) => NAMES.map((n) => join(dir, n))),
  ];
  for (const c of candidates) {
    try {
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/**
 * Renders `html` in a fresh headless Chromium (own profile, so runs can go in
 * parallel) at width × height CSS pixels, device scale 1, and returns the
 * decoded screenshot.
 */
export async function screenshot(chromium: string, html: string, width: number, height: number): Promise<Image> {
  const dir = mkdtempSync(join(tmpdir(), 'rustro-shot-'));
  try {
    const page = join(dir, 'page.html');
    const png = join(dir, 'shot.png');
    writeFileSync(page, html);
    const args = [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--hide-scrollbars',
      '--no-first-run',
      '--no-default-browser-check',
      '--disable-extensions',
      '--disable-dev-shm-usage',
      '--force-device-scale-factor=1',
      `--user-data-dir=${join(dir, 'profile')}`,
      `--window-size=${width},${height}`,
      `--screenshot=${png}`,
      pathToFileURL(page).href,
    ];
    await new Promise<void>((resolve, reject) => {
      execFile(chromium, args, { timeout: 60_000 }, (err, _stdout, stderr) => {
        if (err) reject(new Error(`${chromium} failed: ${err.message}\n${stderr}`));
        else resolve();
      });
    });
    let buf: Buffer;
    try {
      buf = readFileSync(png);
    } catch {
      throw new Error(`${chromium} wrote no screenshot to ${png}`);
    }
    return decodePng(buf);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pixels whose colour is within `tolerance` (per channel) of `hex`, with their bounding box. */
export function colourPixels(img: Image, hex: string, tolerance = 24, region?: { x0: number; y0: number; x1: number; y1: number }) {
  const r = parseInt(hex.slice(1, 3), 16), g = parseInt(hex.slice(3, 5), 16), b = parseInt(hex.slice(5, 7), 16);
  const { x0 = 0, y0 = 0, x1 = img.width, y1 = img.height } = region ?? {};
  let count = 0, minX = Infinity, maxX = -Infinity, minY = Infinity, maxY = -Infinity;
  /** For each x column, the y of the matching pixels (for shape checks). */
  const columns = new Map<number, number[]>();
  for (let y = Math.max(0, y0); y < Math.min(img.height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(img.width, x1); x++) {
      const i = (y * img.width + x) * 4;
      if (Math.abs(img.rgba[i]! - r) <= tolerance && Math.abs(img.rgba[i + 1]! - g) <= tolerance && Math.abs(img.rgba[i + 2]! - b) <= tolerance) {
        count++;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
        const col = columns.get(x);
        if (col) col.push(y);
        else columns.set(x, [y]);
      }
    }
  }
  return { count, minX, maxX, minY, maxY, columns };
}
