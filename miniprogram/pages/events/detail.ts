/** 活动详情: agenda, venue (wx.openLocation), a countdown to the start, and the way to register. */
import { mpApi, messageOf, type EventDetail } from '../../utils/api';
import { countdownText, EVENT_STATUS_TEXT, formatDateTime } from '../../utils/format';
import { openVenue } from '../../utils/venue';
import { yuanOf } from '../../utils/pay';

/** The countdown's ticking timer per page instance (not page data: it is never rendered). */
const timers = new WeakMap<object, number>();

Component({
  data: {
    loading: true,
    error: '',
    id: '',
    event: null as EventDetail | null,
    when: '',
    countdown: '',
    registerText: '立即报名',
  },
  lifetimes: {
    detached() {
      const timer = timers.get(this);
      if (timer !== undefined) clearInterval(timer);
      timers.delete(this);
    },
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      const id = query.id ?? '';
      this.setData({ id });
      try {
        const event = await mpApi.event(id);
        wx.setNavigationBarTitle({ title: event.name });
        this.setData({
          loading: false,
          event,
          when: `${formatDateTime(event.startsAt)} – ${formatDateTime(event.endsAt)}`,
          registerText:
            event.status !== 'open'
              ? (EVENT_STATUS_TEXT[event.status] ?? '暂不可报名')
              : event.ticketPriceFen
                ? `报名并支付 ${yuanOf(event.ticketPriceFen)}`
                : '立即报名',
        });
        this.tick();
        timers.set(
          this,
          setInterval(() => this.tick(), 1000),
        );
      } catch (error) {
        this.setData({ loading: false, error: messageOf(error) });
      }
    },
    onUnload() {
      const timer = timers.get(this);
      if (timer !== undefined) clearInterval(timer);
      timers.delete(this);
    },
    tick() {
      const event = this.data.event;
      if (event) this.setData({ countdown: countdownText(event.startsAt, event.endsAt, Date.now()) });
    },
    openMap() {
      const venue = this.data.event?.venue;
      if (venue) openVenue(venue);
    },
    openTickets() {
      wx.navigateTo({ url: '/pages/tickets/index' });
    },
    register() {
      wx.navigateTo({ url: `/pages/events/register?id=${this.data.id}` });
    },
    onShareAppMessage() {
      return { title: this.data.event?.name ?? '活动', path: `/pages/events/detail?id=${this.data.id}` };
    },
  },
});
