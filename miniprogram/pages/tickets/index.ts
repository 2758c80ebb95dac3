/**
 * 我的门票: the user's tickets (GET /api/mp/me/tickets), each valid one with its QR code for the
 * gate, and a checked-in one with the way to its after-check-in page (benefit, venue, service,
 * cloud). An unpaid one (a paid event) shows 待支付 with 去支付: its order's parameters again
 * (POST /api/mp/events/:id/registrations/pay) to wx.requestPayment, then the list once the server
 * has WeChat Pay's notification.
 */
import { absoluteUrl, messageOf, mpApi } from '../../utils/api';
import { formatDateTime, TICKET_STATUS_TEXT } from '../../utils/format';
import { PAY_TEXT, payAndConfirm } from '../../utils/pay';

/** Whether the page was left (per page instance): a payment being confirmed stops waiting. */
const left = new WeakSet<object>();

interface TicketRow {
  registrationId: number;
  eventId: number;
  token: string;
  eventName: string;
  name: string;
  when: string;
  status: string;
  statusText: string;
  qrSrc: string;
  /** When and at which gate, for a checked-in ticket. */
  checkedIn: string;
}

Component({
  data: {
    loading: true,
    error: '',
    tickets: [] as TicketRow[],
    /** The registration being paid (0: none), and what its row says meanwhile or after. */
    payingId: 0,
    payNotice: { registrationId: 0, text: '' },
  },
  lifetimes: {
    detached() {
      left.add(this);
    },
  },
  methods: {
    onUnload() {
      left.add(this);
    },
    // onShow, not onLoad: coming back from a registration shows the new ticket.
    onShow() {
      return this.load();
    },
    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh());
    },
    async load() {
      this.setData({ loading: this.data.tickets.length === 0, error: '' });
      try {
        const { items: tickets } = await mpApi.myTickets();
        this.setData({
          loading: false,
          tickets: tickets.map((ticket) => ({
            registrationId: ticket.registrationId,
            eventId: ticket.eventId,
            token: ticket.ticket.token,
            eventName: ticket.eventName,
            name: ticket.name,
            when: formatDateTime(ticket.startsAt),
            status: ticket.status,
            statusText: TICKET_STATUS_TEXT[ticket.status] ?? '',
            qrSrc: absoluteUrl(ticket.ticket.qrImageUrl),
            checkedIn: ticket.checkedIn ? `${formatDateTime(ticket.checkedIn.at)} · ${ticket.checkedIn.gate}` : '',
          })),
        });
      } catch (error) {
        this.setData({ loading: false, error: messageOf(error) });
      }
    },
    openAfterCheckin(e: WechatMiniprogram.TouchEvent) {
      wx.navigateTo({ url: `/pages/events/after-checkin?id=${String(e.currentTarget.dataset.event)}` });
    },
    async pay(e: WechatMiniprogram.TouchEvent) {
      if (this.data.payingId) return;
      const registrationId = Number(e.currentTarget.dataset.registration);
      const notice = (text: string) => this.setData({ payNotice: { registrationId, text } });
      this.setData({ payingId: registrationId });
      notice('');
      try {
        const payment = await mpApi.pay(Number(e.currentTarget.dataset.event));
        const outcome = await payAndConfirm(
          { registrationId, payParams: payment.payParams },
          { onConfirming: () => notice(PAY_TEXT.confirming), stopped: () => left.has(this) },
        );
        if (outcome === 'paid') wx.showToast({ title: '支付成功', icon: 'success' });
        notice(outcome === 'paid' ? '' : PAY_TEXT[outcome]);
        this.setData({ payingId: 0 });
        await this.load();
      } catch (error) {
        notice(messageOf(error));
        this.setData({ payingId: 0 });
      }
    },
    previewQr(e: WechatMiniprogram.TouchEvent) {
      const src = String(e.currentTarget.dataset.src);
      wx.previewImage({ urls: [src], current: src });
    },
  },
});
