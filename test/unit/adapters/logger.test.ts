import { createLogger, type LogLevel } from '../../../server/adapters/logger';

function recordingLogger(level: LogLevel = 'debug') {
  const lines: string[] = [];
  const logger = createLogger(level, (line) => lines.push(line));
  const entries = () => lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  return { logger, lines, entries };
}

describe('logger (pino)', () => {
  it('writes one JSON line with level, ISO time and message, then the fields', () => {
    const { logger, lines, entries } = recordingLogger();
    logger.info('callback stored', { kind: 'subscribe', count: 2 });
    expect(lines).toHaveLength(1);
    expect(lines[0]).not.toContain('\n');
    const [entry] = entries();
    expect(entry).toMatchObject({ level: 'info', msg: 'callback stored', kind: 'subscribe', count: 2 });
    expect(entry?.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('redacts secret keys at any depth and whatever their case', () => {
    const { logger, lines } = recordingLogger();
    logger.warn('token refresh failed', {
      secret: 'oa-app-secret-1',
      request: { headers: { Authorization: 'Bearer tok-abc', cookie: 'sid=xyz' }, body: { password: 'hunter2hunter2' } },
      account: { config: { nested: { encodingAesKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG', aes_key: 'k2' } } },
      list: [{ access_token: 'ACCESS_TOKEN_1' }],
      appId: 'wx123',
    });
    const line = lines.join('\n');
    for (const secret of [
      'oa-app-secret-1',
      'tok-abc',
      'sid=xyz',
      'hunter2hunter2',
      'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG',
      'k2"',
      'ACCESS_TOKEN_1',
    ]) {
      expect(line).not.toContain(secret);
    }
    expect(line).toContain('[REDACTED]');
    expect(line).toContain('wx123');
  });

  it('masks phone numbers in the message, in string fields and inside nested objects', () => {
    const { logger, lines } = recordingLogger();
    logger.info('registration from 13812345678', { phone: '+8613912345678', answers: { mobile: '15012345678' } });
    const line = lines.join('\n');
    expect(line).not.toMatch(/13812345678|13912345678|15012345678/);
    expect(line).toContain('138****5678');
    expect(line).toContain('+86139****5678');
    expect(line).toContain('150****5678');
  });

  it('masks international numbers an operator typed (E.164), keeping the country code and the last four digits', () => {
    const { logger, lines } = recordingLogger();
    logger.info('phone set to +14155552671', { phone: '+442071838750' });
    const line = lines.join('\n');
    expect(line).not.toMatch(/4155552671|2071838750/);
    // +1 415… has the shape of a mainland number after its +: masked either way.
    expect(line).toMatch(/\+14\d?\*{4}2671/);
    expect(line).toContain('+44****8750');
  });

  it('keeps an error as type, message and stack, with personal data masked in both', () => {
    const { logger, entries } = recordingLogger();
    class PlatformError extends Error {}
    const error = new PlatformError('user 13812345678 not found');
    logger.error('job failed', { job: 'replay', error });
    const logged = entries()[0]?.error as { type: string; message: string; stack: string };
    expect(logged.type).toBe('PlatformError');
    expect(logged.message).toBe('user 138****5678 not found');
    expect(logged.stack).toContain('logger.test.ts');
    expect(logged.stack).toContain('138****5678');
    expect(logged.stack).not.toContain('13812345678');
  });

  it('filters by level, and silent writes nothing', () => {
    const warn = recordingLogger('warn');
    warn.logger.debug('d');
    warn.logger.info('i');
    warn.logger.warn('w');
    warn.logger.error('e');
    expect(warn.entries().map((e) => e.level)).toEqual(['warn', 'error']);

    const silent = recordingLogger('silent');
    silent.logger.error('e', { error: new Error('x') });
    expect(silent.lines).toEqual([]);
  });

  it('survives circular fields and does not mistake a shared object for a cycle', () => {
    const { logger, entries } = recordingLogger();
    const shared = { id: 1 };
    const loop: Record<string, unknown> = { name: 'loop' };
    loop.self = loop;
    logger.info('shapes', { a: shared, b: shared, loop });
    expect(entries()[0]).toMatchObject({ a: { id: 1 }, b: { id: 1 }, loop: { name: 'loop', self: '[Circular]' } });
  });
});
