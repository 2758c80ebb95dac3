/**
 * 名片: a rep's business card, opened from a share (`?rep=<operatorId>&st=<shareToken>`) or a code
 * (`scene=<operatorId>`). The share token names who forwarded it, so the server can record the share
 * chain; forwarding from here carries this viewer's own token (the card answer's `shareToken`).
 * How long the card was viewed is reported when the page hides or closes. A view alone makes no
 * relationship: saving the card or opening the rep's WeCom QR does (issue 17), so those are reported
 * as actions.
 */
import { messageOf, mpApi, type Card } from '../../utils/api';
import { viewTimerOf } from '../../utils/view-timer';

const KIND_TEXT: Record<string, string> = { article: '文章', image: '图片', video: '视频', pdf: 'PDF 文档' };

Component({
  data: {
    loading: true,
    error: '',
    rep: '',
    /** The token this viewer arrived with (the share chain's last link); '' when opened directly. */
    arrivedWith: '',
    /** The name's first character, shown when the rep has no avatar. */
    initial: '',
    card: null as (Card & { materials: (Card['materials'][number] & { kindText: string })[] }) | null,
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      // A mini-program code passes its parameters as `scene` (URL-encoded, 32 characters at most).
      const rep = query.rep ?? (query.scene ? decodeURIComponent(query.scene) : '');
      const st = query.st ?? '';
      this.setData({ rep, arrivedWith: st });
      try {
        const card = await mpApi.card(rep, st || undefined);
        wx.setNavigationBarTitle({ title: `${card.name}的名片` });
        this.setData({
          loading: false,
          initial: Array.from(card.name)[0] ?? '',
          card: { ...card, materials: card.materials.map((m) => ({ ...m, kindText: KIND_TEXT[m.kind] ?? '' })) },
        });
      } catch (error) {
        this.setData({ loading: false, error: messageOf(error) });
      }
    },
    onShow() {
      viewTimerOf(this).show();
    },
    onHide() {
      this.reportView();
    },
    onUnload() {
      this.reportView();
    },
    reportView() {
      const seconds = viewTimerOf(this).take();
      if (seconds === null || !this.data.card) return;
      // Fire and forget: the page is going away; a lost report loses one duration, nothing else.
      mpApi.cardView(this.data.rep, { seconds, st: this.data.arrivedWith || undefined }).catch(() => undefined);
    },
    action(action: 'save_contact' | 'add_wecom') {
      mpApi.cardAction(this.data.rep, { action, st: this.data.arrivedWith || undefined }).catch(() => undefined);
    },
    addWecom() {
      const qr = this.data.card?.contactWayQrUrl;
      if (!qr) return;
      // The contact-way QR (联系我) adds the rep on WeCom when long-pressed in the preview.
      wx.previewImage({ urls: [qr], current: qr, showmenu: true });
      this.action('add_wecom');
    },
    saveContact() {
      const card = this.data.card;
      if (!card) return;
      wx.addPhoneContact({
        firstName: card.name,
        mobilePhoneNumber: card.phone ?? undefined,
        organization: card.company ?? undefined,
        title: card.title ?? undefined,
        success: () => this.action('save_contact'),
        // The user closed the system sheet: nothing was saved.
        fail: () => undefined,
      });
    },
    call() {
      const phone = this.data.card?.phone;
      if (phone) wx.makePhoneCall({ phoneNumber: phone });
    },
    openMaterial(e: WechatMiniprogram.TouchEvent) {
      const code = String(e.currentTarget.dataset.code);
      wx.navigateTo({ url: `/pages/content/index?code=${encodeURIComponent(code)}` });
    },
    openCompany() {
      const company = this.data.card?.company;
      if (company) wx.navigateTo({ url: `/pages/cards/index?company=${encodeURIComponent(company)}` });
    },
    onShareAppMessage() {
      const card = this.data.card;
      const st = card?.shareToken ?? '';
      return {
        title: card ? `这是${card.name}的名片，请惠存` : '名片',
        path: `/pages/card/index?rep=${encodeURIComponent(this.data.rep)}&st=${encodeURIComponent(st)}`,
      };
    },
  },
});
