import { PlatformApiError, PlatformTransportError, redactCredentials } from '../../../server/adapters/platform-error';

describe('PlatformApiError', () => {
  it('names the api, the errcode and its documented meaning', () => {
    const error = new PlatformApiError('tags/create', 45157, 'invalid tag name hint: [abc]');
    expect(error.meaning).toBe('invalid tag name: it must not duplicate another tag');
    expect(error.message).toContain('tags/create');
    expect(error.message).toContain('45157');
    expect(error.message).toContain(error.meaning);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('PlatformApiError');
  });

  it('falls back to the bare number for an errcode it does not know', () => {
    expect(new PlatformApiError('x', 99999, '').meaning).toBe('errcode 99999');
  });

  it.each([
    [-1, true],
    [45011, true],
    [45009, false],
    [40001, false],
    [45157, false],
  ])('errcode %i retryable: %s', (errcode, retryable) => {
    expect(new PlatformApiError('user/info', errcode, '').retryable).toBe(retryable);
  });

  it('never repeats a credential the errmsg echoes', () => {
    const error = new PlatformApiError('user/info', 40001, 'invalid credential, access_token=ABC123SECRET&openid=o1 rid: 1');
    expect(error.message).not.toContain('ABC123SECRET');
    expect(error.message).toContain('access_token=***');
  });
});

describe('PlatformTransportError', () => {
  it.each([
    ['timeout', null, true],
    ['network', null, true],
    ['http_status', 502, true],
    ['http_status', 429, true],
    ['http_status', 404, false],
    ['bad_response', null, false],
  ] as const)('%s (HTTP %s) retryable: %s', (failure, status, retryable) => {
    const error = new PlatformTransportError('gettoken', failure, 'detail', status);
    expect(error.retryable).toBe(retryable);
    expect(error.message).toContain('gettoken');
  });
});

describe('redactCredentials', () => {
  it('masks access_token, secret, corpsecret, session_key and js_code but not errcode', () => {
    const text = 'corpsecret=s1&secret=s2&session_key=k&js_code=c&errcode=40001';
    expect(redactCredentials(text)).toBe('corpsecret=***&secret=***&session_key=***&js_code=***&errcode=40001');
  });
});
