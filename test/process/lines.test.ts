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
});
