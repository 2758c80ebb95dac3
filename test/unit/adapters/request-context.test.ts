import { createLogger } from '../../../server/adapters/logger';
import { currentRequestId, runInRequestContext, runOutsideRequest } from '../../../server/adapters/request-context';
import { isUsableRequestId } from '../../../server/http/request-id.middleware';

function recordingLogger() {
  const lines: string[] = [];
  const logger = createLogger('debug', (line) => lines.push(line));
  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, entries };
}

describe('request context: the logger adds the request id by itself', () => {
  it('every line written inside a request carries its id, across awaits and timers; lines outside carry none', async () => {
    const { logger, entries } = recordingLogger();
    logger.info('before');
    await runInRequestContext({ requestId: 'req-1' }, async () => {
      logger.info('first');
      await new Promise((resolve) => setTimeout(resolve, 1));
      logger.warn('after a timer', { api: 'user/info' });
      await Promise.resolve();
      logger.debug('after an await');
    });
    logger.info('after');
    expect(entries().map((e) => [e.msg, e.requestId])).toEqual([
      ['before', undefined],
      ['first', 'req-1'],
      ['after a timer', 'req-1'],
      ['after an await', 'req-1'],
      ['after', undefined],
    ]);
    expect(entries()[2]).toMatchObject({ api: 'user/info' });
  });

  it('two requests running together keep their own ids', async () => {
    const { logger, entries } = recordingLogger();
    const run = (id: string, waitMs: number) =>
      runInRequestContext({ requestId: id }, async () => {
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        logger.info(`done ${id}`);
      });
    await Promise.all([run('slow', 5), run('fast', 1)]);
    expect(entries().map((e) => [e.msg, e.requestId])).toEqual([
      ['done fast', 'fast'],
      ['done slow', 'slow'],
    ]);
  });

  it('work a request only schedules for many (runOutsideRequest) logs without its id', async () => {
    const { logger, entries } = recordingLogger();
    await runInRequestContext({ requestId: 'req-2' }, async () => {
      await runOutsideRequest(async () => {
        expect(currentRequestId()).toBeUndefined();
        await new Promise((resolve) => setTimeout(resolve, 1));
        logger.info('group commit');
      });
      logger.info('answered');
    });
    expect(entries().map((e) => [e.msg, e.requestId])).toEqual([
      ['group commit', undefined],
      ['answered', 'req-2'],
    ]);
  });
});

describe('isUsableRequestId: an incoming X-Request-Id is kept only when short and safe', () => {
  it.each(['3f2c1a9e-5b7d-4c1e-9a0b-2d4e6f8a0c1e', 'abc.DEF_123:xyz-9', 'a'])('keeps %s', (id) => {
    expect(isUsableRequestId(id)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['too long', 'a'.repeat(65)],
    ['a space', 'a b'],
    ['a newline', 'a\nb'],
    ['a quote', 'a"b'],
    ['non-ASCII', 'é'],
    // The log would mask it (138****5678) while the header shows it whole.
    ['a phone number', 'req-13812345678'],
  ])('replaces one with %s', (_what, id) => {
    expect(isUsableRequestId(id)).toBe(false);
  });
});
