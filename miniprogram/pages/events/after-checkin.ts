/**
 * 签到成功: the attendee's view once their ticket is checked in (`?id=<event>`, opened from the
 * ticket): when and at which gate, the benefit granted at the check-in, the way to the venue
 * (wx.openLocation), customer service (<button open-type="contact">, WeChat's own chat with the
 * mini-program's service staff) and the cloud exhibition. Read from GET /api/mp/me/tickets?eventId=.
 */
import { messageOf, mpApi, type Benefit, type Venue } from '../../utils/api';
import { formatDateTime } from '../../utils/format';
import { openVenue } from '../../utils/venue';

const BENEFIT_TEXT: Record<Benefit['kind'], string> = { gift: '签到礼品', coupon: '签到优惠券' };

Component({
  data: {
    loading: true,
    error: '',
    id: '',
    eventName: '',
    /** False when this user has no ticket for the event, or it is not checked in yet. */
    checkedIn: false,
    at: '',
    gate: '',
    benefitTitle: '',
    benefit: '',
    venue: null as Venue | null,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ id: query.id ?? '' });
      return this.load();
    },
    async load() {
      this.setData({ loading: true, error: '' });
      try {
        const [ticket] = (await mpApi.myTickets(this.data.id)).items;
        this.setData({
          loading: false,
          eventName: ticket?.eventName ?? '',
          checkedIn: ticket?.checkedIn != null,
          at: ticket?.checkedIn ? formatDateTime(ticket.checkedIn.at) : '',
          gate: ticket?.checkedIn?.gate ?? '',
          benefitTitle: ticket?.checkedIn?.benefit ? BENEFIT_TEXT[ticket.checkedIn.benefit.kind] : '',
          benefit: ticket?.checkedIn?.benefit?.description ?? '',
          venue: ticket?.venue ?? null,
        });
      } catch (error) {
        this.setData({ loading: false, error: messageOf(error) });
      }
    },
    openMap() {
      if (this.data.venue) openVenue(this.data.venue);
    },
    openCloud() {
      wx.navigateTo({ url: `/pages/events/cloud?id=${this.data.id}` });
    },
    openTickets() {
      wx.navigateTo({ url: '/pages/tickets/index' });
    },
  },
});
