// Sizes in bytes as an operator writes them: "256MiB", "1.5G", "65536". Every suffix is a power of
// 1024 (as systemd's MemoryMax= and PM2's max_memory_restart read them): "MB" is read as "MiB".
// The schema validates without transforming (the API serializes settings back with it); code that
// needs the figure calls sizeBytes().
import * as z from 'zod';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 };
const SIZE = /^(\d+(?:\.\d+)?)\s*(?:([kmgt])(?:i?b)?|(b))?$/i;

export type Size = string | number;

/** Bytes, or undefined when `size` is not a size (a number is bytes already). */
export function sizeBytes(size: Size): number | undefined {
  if (typeof size === 'number') return Number.isFinite(size) && size >= 0 ? Math.round(size) : undefined;
  const m = SIZE.exec(size.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNITS[(m[2] ?? m[3] ?? '').toLowerCase()]);
}

/** 268435456 -> "256MiB", for messages and replies. */
export function formatSize(bytes: number): string {
  for (const [unit, factor] of [
    ['TiB', 2 ** 40],
    ['GiB', 2 ** 30],
    ['MiB', 2 ** 20],
    ['KiB', 2 ** 10],
  ] as const) {
    if (bytes >= factor) return `${Number((bytes / factor).toFixed(1))}${unit}`;
  }
  return `${bytes}B`;
}

/** A size between min and max bytes, as a string with a unit or a number of bytes; or "unlimited" if allowed. */
export function sizeSchema(min: number, max: number, options: { unlimited?: boolean } = {}) {
  const or = options.unlimited ? ' or "unlimited"' : '';
  const expected = `expected a size such as "256MiB", "64k" or "1G" (a plain number is bytes) between ${formatSize(min)} and ${formatSize(max)}${or}`;
  return z.union([z.string(), z.number()], { error: expected }).refine(
    (size) => {
      if (options.unlimited && size === 'unlimited') return true;
      const bytes = sizeBytes(size);
      return bytes !== undefined && bytes >= min && bytes <= max;
    },
    { error: expected },
  );
}
