/** 活动: the events open to this mini-program's users (GET /api/mp/events). */
import { mpApi, messageOf } from '../../utils/api';
import { EVENT_STATUS_TEXT, formatDateTime } from '../../utils/format';

interface EventRow {
  id: number;
  name: string;
  when: string;
  place: string;
  status: string;
  statusText: string;
}

Component({
  data: {
    loading: true,
    error: '',
    events: [] as EventRow[],
  },
  methods: {
    onLoad() {
      return this.load();
    },
    onPullDownRefresh() {
      return this.load().then(() => wx.stopPullDownRefresh());
    },
    async load() {
      this.setData({ loading: true, error: '' });
      try {
        const { items: events } = await mpApi.events();
        this.setData({
          loading: false,
          events: events.map((event) => ({
            id: event.id,
            name: event.name,
            when: formatDateTime(event.startsAt),
            place: event.venue.name || event.venue.address,
            status: event.status,
            statusText: EVENT_STATUS_TEXT[event.status] ?? '',
          })),
        });
      } catch (error) {
        this.setData({ loading: false, error: messageOf(error) });
      }
    },
    openEvent(e: WechatMiniprogram.TouchEvent) {
      const id = String(e.currentTarget.dataset.id);
      wx.navigateTo({ url: `/pages/events/detail?id=${id}` });
    },
  },
});
