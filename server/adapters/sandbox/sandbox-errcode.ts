import { describeErrcode } from '../../wechat/errcode';

/**
 * A refusal the fake platform answers with, as `{errcode, errmsg}`. In a file of its own: the
 * state and every part of it (messages, channel codes, group messages) throw it, and the state
 * imports those parts.
 */
export class SandboxErrcode extends Error {
  constructor(
    readonly errcode: number,
    readonly errmsg: string = describeErrcode(errcode),
    /** Fields the refusal's answer carries besides errcode and errmsg (45065's msg_id). */
    readonly fields: Record<string, unknown> = {},
  ) {
    super(errmsg);
  }
}
