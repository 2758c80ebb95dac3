/**
 * 资料: an article, image, video or PDF from the content centre, by its code (`?code=`, and `ev=`
 * when opened from an event). Opening it is a view (POST /api/mp/content/:code/views, answered with
 * the view's key); each time the page hides or closes, the read time so far goes to the same route
 * with that key (`{viewKey, seconds}`, seconds in all, so a lost report is made good by the next).
 * A PDF opens in WeChat's document viewer (wx.downloadFile, then wx.openDocument), whose time counts
 * as time away from this page. The material comes from GET /api/mp/content/:code: an article's body
 * as HTML for <rich-text>, rendered and escaped on the server as its web page is.
 */
import { absoluteUrl, messageOf, mpApi, type Content } from '../../utils/api';
import { viewTimerOf } from '../../utils/view-timer';

Component({
  data: {
    loading: true,
    error: '',
    code: '',
    viewKey: '',
    content: null as Content | null,
    opening: false,
    pdfError: '',
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      const code = query.code ? decodeURIComponent(query.code) : '';
      this.setData({ code });
      try {
        const content = await mpApi.content(code);
        wx.setNavigationBarTitle({ title: content.title });
        this.setData({ loading: false, content: { ...content, fileUrl: content.fileUrl ? absoluteUrl(content.fileUrl) : null } });
      } catch (error) {
        this.setData({ loading: false, error: messageOf(error) });
        return;
      }
      try {
        const eventId = Number(query.ev);
        const { viewKey } = await mpApi.contentView(code, Number.isInteger(eventId) && eventId > 0 ? eventId : undefined);
        this.setData({ viewKey });
      } catch {
        // The material is shown all the same; only its read time goes unrecorded.
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
      const timer = viewTimerOf(this);
      if (timer.take() === null || !this.data.viewKey) return;
      mpApi.contentReadTime(this.data.code, this.data.viewKey, timer.total).catch(() => undefined);
    },
    openPdf() {
      const url = this.data.content?.fileUrl;
      if (!url) return;
      this.setData({ opening: true, pdfError: '' });
      wx.downloadFile({
        url,
        success: (res) => {
          if (res.statusCode !== 200) {
            this.setData({ opening: false, pdfError: '文档下载失败，请稍后重试' });
            return;
          }
          wx.openDocument({
            filePath: res.tempFilePath,
            fileType: 'pdf',
            showMenu: true,
            complete: () => this.setData({ opening: false }),
          });
        },
        fail: () => this.setData({ opening: false, pdfError: '网络连接失败，请检查网络后重试' }),
      });
    },
    onShareAppMessage() {
      return { title: this.data.content?.title ?? '资料', path: `/pages/content/index?code=${encodeURIComponent(this.data.code)}` };
    },
  },
});
