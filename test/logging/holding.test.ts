// A slice of the daemon's work commits its writes as it ends (src/later.ts): its log lines are held
// until then, so that no line tells of a record that a kill -9 could still lose.
import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { createLater } from '../../src/later.ts';
import { createLogger, holdingLines } from '../../src/logging/logger.ts';

function capture() {
  const events: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      events.push(`line ${JSON.parse(String(chunk)).message}`);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), events };
}

it('lines logged inside holdingLines are written once it returns, in order; nested runs join it', () => {
  const { logger, events } = capture();
  holdingLines(logger, () => {
    logger.info('one');
    holdingLines(logger, () => logger.info('two'));
    events.push('committed');
  });
  logger.info('three');
  expect(events).toEqual(['committed', 'line one', 'line two', 'line three']);
});

it('a throwing run still writes what it logged', () => {
  const { logger, events } = capture();
  expect(() =>
    holdingLines(logger, () => {
      logger.error('before the throw');
      throw new Error('bug');
    }),
  ).toThrow('bug');
  expect(events).toEqual(['line before the throw']);
});

it("a slice of later's jobs runs as one batch, and its lines follow the batch's end", async () => {
  const { logger, events } = capture();
  const later = createLater(() => {}, {
    batch: (slice) =>
      holdingLines(logger, () => {
        events.push('begin');
        slice();
        events.push('commit');
      }),
  });
  later(() => logger.info('a'));
  later(() => logger.info('b'));
  await new Promise((resolve) => setImmediate(resolve));
  expect(events).toEqual(['begin', 'commit', 'line a', 'line b']);
  later(() => logger.info('c'));
  later.flush();
  expect(events.slice(4)).toEqual(['begin', 'commit', 'line c']);
});
