import { computeSha1Signature, verifySha1Signature } from '../../../server/wechat/signature';
import { WECOM_SAMPLE } from './fixtures';

describe('computeSha1Signature', () => {
  it('reproduces the WeCom sample msg_signature of the callback message', () => {
    const { token } = WECOM_SAMPLE;
    const { timestamp, nonce, encrypt, msgSignature } = WECOM_SAMPLE.message;
    expect(computeSha1Signature([token, timestamp, nonce, encrypt])).toBe(msgSignature);
  });

  it('reproduces the WeCom sample msg_signature of the URL check', () => {
    const { token } = WECOM_SAMPLE;
    const { timestamp, nonce, echostr, msgSignature } = WECOM_SAMPLE.verifyUrl;
    expect(computeSha1Signature([token, timestamp, nonce, echostr])).toBe(msgSignature);
  });

  it('does not depend on the order of the parts and does not mutate them', () => {
    const parts = ['token', '1409659813', '1372623149'];
    const copy = [...parts];
    expect(computeSha1Signature(parts)).toBe(computeSha1Signature([...parts].reverse()));
    expect(parts).toEqual(copy);
  });

  it('is the sha1 of the sorted concatenation', () => {
    // sha1("abc")
    expect(computeSha1Signature(['c', 'a', 'b'])).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
  });
});

describe('verifySha1Signature', () => {
  const parts: string[] = [WECOM_SAMPLE.token, WECOM_SAMPLE.message.timestamp, WECOM_SAMPLE.message.nonce, WECOM_SAMPLE.message.encrypt];

  it('accepts the matching signature, in either letter case', () => {
    expect(verifySha1Signature(WECOM_SAMPLE.message.msgSignature, parts)).toBe(true);
    expect(verifySha1Signature(WECOM_SAMPLE.message.msgSignature.toUpperCase(), parts)).toBe(true);
  });

  it('rejects a different signature of the same length', () => {
    const wrong = WECOM_SAMPLE.message.msgSignature.replace(/^4/, '5');
    expect(verifySha1Signature(wrong, parts)).toBe(false);
  });

  it('rejects missing, empty and wrong-length signatures without throwing', () => {
    expect(verifySha1Signature(undefined, parts)).toBe(false);
    expect(verifySha1Signature('', parts)).toBe(false);
    expect(verifySha1Signature('abc', parts)).toBe(false);
    expect(verifySha1Signature(`${WECOM_SAMPLE.message.msgSignature}0`, parts)).toBe(false);
    expect(verifySha1Signature('é'.repeat(40), parts)).toBe(false);
  });

  it('rejects when any signed part changes', () => {
    const tampered = [...parts];
    tampered[1] = '1409659814';
    expect(verifySha1Signature(WECOM_SAMPLE.message.msgSignature, tampered)).toBe(false);
  });
});
