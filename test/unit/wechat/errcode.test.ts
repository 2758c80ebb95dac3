import { WECHAT_ERRCODES, describeErrcode, isAccessTokenErrcode } from '../../../server/wechat/errcode';

describe('WECHAT_ERRCODES', () => {
  it('describes every code the services rely on', () => {
    const required = [
      -1, 40001, 40013, 40014, 40125, 41001, 42001, 40003, 40032, 45009, 45011, 45056, 45057, 45058, 45059, 45157, 45158, 45159, 49003,
      43004, 48001, 40037, 43101, 47003, 61023, 40056, 40068, 60111, 84061, 40096, 41043, 81013, 40071, 40072,
    ];
    for (const code of required) {
      expect(WECHAT_ERRCODES[code]).toEqual(expect.any(String));
    }
  });

  it('cannot be changed at run time', () => {
    expect(Object.isFrozen(WECHAT_ERRCODES)).toBe(true);
  });
});

describe('describeErrcode', () => {
  it('returns the meaning of a known code', () => {
    expect(describeErrcode(42001)).toBe('access_token expired');
    expect(describeErrcode(-1)).toMatch(/system busy/);
  });

  it('names an unknown code', () => {
    expect(describeErrcode(99999)).toBe('errcode 99999');
  });
});

describe('isAccessTokenErrcode', () => {
  it('is true for 40001, 40014 and 42001 only', () => {
    expect([40001, 40014, 42001].every(isAccessTokenErrcode)).toBe(true);
    expect([0, -1, 41001, 45009, 40013].some(isAccessTokenErrcode)).toBe(false);
  });
});
