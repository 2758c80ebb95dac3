/**
 * 我的门票: the user's tickets (GET /api/mp/me/tickets), each valid one with its QR code for the gate,
 * and a checked-in one with the way to its after-check-in page (benefit, venue, service, cloud).
 */
import { absoluteUrl, messageOf, mpApi } from '../../utils/api';
import { formatDateTime, TICKET_STATUS_TEXT } from '../../utils/format';

interface TicketRow {
  token: string;
  eventId: number;
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
  },
  methods: {
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
            token: ticket.ticket.token,
            eventId: ticket.eventId,
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
    previewQr(e: WechatMiniprogram.TouchEvent) {
      const src = String(e.currentTarget.dataset.src);
      wx.previewImage({ urls: [src], current: src });
    },
  },
});
