import { accountThrottleKey } from '../../../server/modules/operators/login-throttle';

describe('accountThrottleKey', () => {
  it('keys a known operator by id, however the name was typed', () => {
    expect(accountThrottleKey({ operatorId: 7 })).toBe('account:op:7');
  });

  it('folds an unknown name: case, accents, compatibility forms, outer spaces', () => {
    for (const name of ['Ghost', 'ghóst', ' GHOST ', 'ｇｈｏｓｔ', 'ǵhost'])
      expect(accountThrottleKey({ unknownUsername: name })).toBe('account:name:ghost');
    // Never the same key as an operator's, whatever the name.
    expect(accountThrottleKey({ unknownUsername: 'op:7' })).toBe('account:name:op:7');
  });

  it('cuts a long name at 64 code points, never inside a surrogate pair', () => {
    const key = accountThrottleKey({ unknownUsername: `a${'😀'.repeat(100)}` });
    // A lone surrogate does not survive an encoding round trip.
    expect(Buffer.from(key, 'utf8').toString('utf8')).toBe(key);
    expect(Array.from(key.slice('account:name:'.length))).toHaveLength(64);
  });
});
