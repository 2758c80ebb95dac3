/**
 * Why an inbound WeChat / WeCom / WeChat Pay payload was refused. Routes map these codes to the
 * platform's expected answer; they are values, not crashes.
 */
export type ProtocolErrorCode =
  | 'bad_signature'
  | 'decrypt_failed'
  | 'bad_padding'
  | 'receive_id_mismatch'
  | 'malformed_xml'
  | 'xml_too_large'
  | 'bad_pay_signature'
  | 'pay_timestamp_expired'
  | 'pay_decrypt_failed';

export class ProtocolError extends Error {
  constructor(
    readonly code: ProtocolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ProtocolError';
  }
}
