/**
 * 资料: an article, image, video or PDF from the content centre, by its code. The time on the page
 * is reported as a view (POST /api/mp/content/:code/views {seconds}) when it hides or closes; a
 * PDF opens in WeChat's document viewer (wx.downloadFile, then wx.openDocument), whose time is
 * counted as time away from this page.
 */
import { absoluteUrl, messageOf, mpApi, type Content } from '../../utils/api';
import { ViewTimer } from '../../utils/view-timer';

const timers = new WeakMap<object, ViewTimer>();

function timerOf(page: object): ViewTimer {
  let timer = timers.get(page);
  if (!timer) {
    timer = new ViewTimer();
    timers.set(page, timer);
  }
  return timer;
}

Component({
  data: {
    loading: true,
    error: '',
    code: '',
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
      }
    },
    onShow() {
      timerOf(this).show();
    },
    onHide() {
      this.reportView();
    },
    onUnload() {
      this.reportView();
    },
    reportView() {
      const seconds = timerOf(this).take();
      if (seconds === null || !this.data.content) return;
      mpApi.contentView(this.data.code, seconds).catch(() => undefined);
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
