/** 企业名片: a company's cards (GET /api/mp/cards?company=); a tap opens one. */
import { messageOf, mpApi, type CardSummary } from '../../utils/api';

Component({
  data: {
    loading: true,
    error: '',
    company: '',
    cards: [] as (CardSummary & { initial: string })[],
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      const company = query.company ? decodeURIComponent(query.company) : '';
      this.setData({ company });
      if (company) wx.setNavigationBarTitle({ title: company });
      try {
        const { cards } = await mpApi.companyCards(company);
        this.setData({ loading: false, cards: cards.map((card) => ({ ...card, initial: Array.from(card.name)[0] ?? '' })) });
      } catch (error) {
        this.setData({ loading: false, error: messageOf(error) });
      }
    },
    openCard(e: WechatMiniprogram.TouchEvent) {
      wx.navigateTo({ url: `/pages/card/index?rep=${String(e.currentTarget.dataset.id)}` });
    },
  },
});
