/**
 * 云展厅: an event's cloud exhibition (`?id=<event>`), as its H5 page shows it: materials, products
 * and cases from the content centre (GET /api/mp/events/:id/cloud, whose answer is the visit). An
 * item opens the content page with the event (`ev`), so its view is attributed to the event. The
 * online consult (在线咨询) sends the question to the user's rep (POST …/cloud/consult).
 */
import { absoluteUrl, ApiError, messageOf, mpApi, type CloudItem, type CloudSection } from '../../utils/api';
import { formatDateTime } from '../../utils/format';

/** The consult's length limit, as the server's (event-cloud.service.ts CONSULT_MAX_CHARS). */
const QUESTION_MAX = 500;

const SECTION_TITLES: Record<CloudSection, string> = { materials: '资料下载', products: '产品展示', cases: '客户案例' };
const KIND_TEXT: Record<CloudItem['kind'], string> = { article: '图文', image: '图片', video: '视频', pdf: 'PDF' };

interface SectionView {
  key: CloudSection;
  title: string;
  items: (CloudItem & { coverSrc: string; kindText: string })[];
}

Component({
  data: {
    loading: true,
    error: '',
    id: '',
    eventName: '',
    when: '',
    sections: [] as SectionView[],
    questionMax: QUESTION_MAX,
    question: '',
    consultError: '',
    sending: false,
    sent: false,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ id: query.id ?? '' });
      return this.load();
    },
    async load() {
      this.setData({ loading: true, error: '' });
      try {
        const cloud = await mpApi.cloud(this.data.id);
        wx.setNavigationBarTitle({ title: `${cloud.event.name} · 云展厅` });
        const sections = (Object.keys(SECTION_TITLES) as CloudSection[])
          .map((key) => ({
            key,
            title: SECTION_TITLES[key],
            items: cloud.sections[key].map((item) => ({
              ...item,
              coverSrc: item.cover ? absoluteUrl(item.cover) : '',
              kindText: KIND_TEXT[item.kind],
            })),
          }))
          .filter((section) => section.items.length > 0);
        this.setData({
          loading: false,
          eventName: cloud.event.name,
          when: `${formatDateTime(cloud.event.startsAt)} – ${formatDateTime(cloud.event.endsAt)}`,
          sections,
        });
      } catch (error) {
        this.setData({ loading: false, error: messageOf(error) });
      }
    },
    openItem(e: WechatMiniprogram.TouchEvent) {
      const code = encodeURIComponent(String(e.currentTarget.dataset.code));
      wx.navigateTo({ url: `/pages/content/index?code=${code}&ev=${this.data.id}` });
    },
    onQuestion(e: WechatMiniprogram.Input) {
      this.setData({ question: e.detail.value, consultError: '', sent: false });
    },
    async consult() {
      if (this.data.sending) return;
      const question = this.data.question.trim();
      if (question === '') {
        this.setData({ consultError: '请填写咨询内容' });
        return;
      }
      this.setData({ sending: true, consultError: '' });
      try {
        await mpApi.consult(this.data.id, question);
        this.setData({ sending: false, sent: true, question: '' });
        wx.showToast({ title: '已提交', icon: 'success' });
      } catch (error) {
        // validation_failed names the message's own problem (its length): show that sentence.
        const fields = error instanceof ApiError ? error.details?.fields : undefined;
        const field = typeof fields === 'object' && fields !== null ? (fields as Record<string, unknown>).message : undefined;
        this.setData({ sending: false, consultError: typeof field === 'string' ? field : messageOf(error) });
      }
    },
    onShareAppMessage() {
      return { title: `${this.data.eventName} · 云展厅`, path: `/pages/events/cloud?id=${this.data.id}` };
    },
  },
});
