import { describe, expect, it } from 'vitest';
import { MAX_LINE, lineSplitter } from '../../src/process/lines.ts';

function split(chunks: string[]): string[] {
  const lines: string[] = [];
  const splitter = lineSplitter((line) => lines.push(line));
  for (const chunk of chunks) splitter.push(chunk);
  splitter.end();
  return lines;
}

describe('lineSplitter', () => {
  it('joins lines across chunks and flushes the last partial line at the end', () => {
    expect(split(['ab', 'c\nd', 'e\r\n\nf'])).toEqual(['abc', 'de', '', 'f']);
  });

  it('cuts an over-long line and drops its remainder, however it is chunked', () => {
    const long = 'x'.repeat(MAX_LINE * 3);
    expect(split([long.slice(0, 5000), long.slice(5000), '\nnext\n'])).toEqual(['x'.repeat(MAX_LINE), 'next']);
    expect(split([`${long}\nnext`])).toEqual(['x'.repeat(MAX_LINE), 'next']);
  });

  it('hands an over-long line on as soon as it is cut, without waiting for its newline (memory stays bounded)', () => {
    const lines: string[] = [];
    const splitter = lineSplitter((line) => lines.push(line));
    splitter.push('x'.repeat(MAX_LINE + 1));
    expect(lines).toEqual(['x'.repeat(MAX_LINE)]);
    splitter.push('y'.repeat(MAX_LINE * 2));
    splitter.push('z\nnext');
    splitter.end();
    expect(lines).toEqual(['x'.repeat(MAX_LINE), 'next']);
    // Exactly MAX_LINE characters is not over-long: kept whole until its newline.
    const exact: string[] = [];
    const other = lineSplitter((line) => exact.push(line));
    other.push('w'.repeat(MAX_LINE));
    expect(exact).toEqual([]);
    other.push('\n');
    expect(exact).toEqual(['w'.repeat(MAX_LINE)]);
  });
});
