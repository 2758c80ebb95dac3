/**
 * 现场签到 (staff only): wx.scanCode reads a ticket's QR, POST /api/mp/checkins {ticket, gate?}
 * checks it in. The server decides who is staff: a user who is not gets 403 `mp_staff_only`, and
 * this page then offers to bind with the code an admin hands out (POST /api/mp/staff/bind).
 */
import { ApiError, messageOf, mpApi, reportKey } from '../../utils/api';
import { formatDateTime } from '../../utils/format';

const GATE_KEY = 'fw:checkinGate';

interface Result {
  kind: 'ok' | 'refused';
  title: string;
  detail: string;
  /** No answer came (offline, timeout): the same scan may be sent again. */
  retry: boolean;
}

/** The scan last sent: a retry sends the same nonce, so a check-in whose answer was lost is not refused as a second one. */
const lastScans = new WeakMap<object, { ticket: string; nonce: string }>();

const isStaffRefusal = (error: unknown): boolean => error instanceof ApiError && error.code === 'mp_staff_only';

Component({
  data: {
    gate: '',
    checking: false,
    staffOnly: false,
    bindCode: '',
    binding: false,
    bindError: '',
    result: null as Result | null,
  },
  methods: {
    async onLoad() {
      const gate: unknown = wx.getStorageSync(GATE_KEY);
      this.setData({ gate: typeof gate === 'string' ? gate : '' });
      // Say at once when this user is not staff, rather than after the first scan.
      try {
        const me = await mpApi.me();
        this.setData({ staffOnly: me.staff === null });
      } catch {
        // The scan itself will say what is wrong (offline, or 403 mp_staff_only).
      }
    },
    onGate(e: WechatMiniprogram.Input) {
      this.setData({ gate: e.detail.value });
      wx.setStorageSync(GATE_KEY, e.detail.value);
    },
    onBindCode(e: WechatMiniprogram.Input) {
      this.setData({ bindCode: e.detail.value, bindError: '' });
    },
    scan() {
      if (this.data.checking) return;
      wx.scanCode({
        onlyFromCamera: true,
        scanType: ['qrCode'],
        success: (res) => {
          lastScans.set(this, { ticket: res.result, nonce: reportKey() });
          void this.checkin();
        },
        // Closing the scanner is no error.
        fail: () => undefined,
      });
    },
    retry() {
      if (!this.data.checking) void this.checkin();
    },
    async checkin() {
      const scan = lastScans.get(this);
      if (!scan) return;
      const { ticket, nonce } = scan;
      this.setData({ checking: true, result: null });
      try {
        const gate = this.data.gate.trim();
        const done = await mpApi.checkin(gate ? { ticket, gate, nonce } : { ticket, nonce });
        const benefit = done.benefit ? `请领取${done.benefit.kind === 'gift' ? '礼品' : '优惠券'}：${done.benefit.description}` : '';
        const detail = [`${formatDateTime(done.checkedInAt)}${done.gate ? ` · ${done.gate}` : ''}`, benefit].filter(Boolean).join('\n');
        this.setData({ result: { kind: 'ok', title: '签到成功', detail, retry: false } });
        wx.vibrateShort({ type: 'medium' });
      } catch (error) {
        if (isStaffRefusal(error)) {
          this.setData({ staffOnly: true });
        } else {
          const first = error instanceof ApiError && error.code === 'already_checked_in' ? error.details : undefined;
          const at = typeof first?.checkedInAt === 'string' ? `首次签到：${formatDateTime(first.checkedInAt)}` : '';
          const gate = typeof first?.gate === 'string' && first.gate ? `（${first.gate}）` : '';
          const retry = error instanceof ApiError && error.status === 0;
          this.setData({ result: { kind: 'refused', title: messageOf(error), detail: at ? `${at}${gate}` : '', retry } });
        }
      } finally {
        this.setData({ checking: false });
      }
    },
    async bind() {
      const code = this.data.bindCode.trim();
      if (!code) {
        this.setData({ bindError: '请输入绑定码' });
        return;
      }
      this.setData({ binding: true, bindError: '' });
      try {
        await mpApi.bindStaff(code);
        this.setData({ staffOnly: false, bindCode: '' });
        wx.showToast({ title: '绑定成功', icon: 'success' });
      } catch (error) {
        this.setData({ bindError: messageOf(error) });
      } finally {
        this.setData({ binding: false });
      }
    },
  },
});
