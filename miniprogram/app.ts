/**
 * Flywheel's mini-program. Pages are Component()s (so miniprogram-simulate can test them); each
 * calls Flywheel through utils/api.ts, which logs in on the first call.
 */
import { login } from './utils/api';
import { enterThroughChannel } from './utils/channel';

App({
  onLaunch() {
    // Log in early so the first page's call does not wait for it; a failure here is retried by
    // that call, which shows the message.
    login().catch(() => undefined);
  },
  // onShow, not onLaunch: a code scanned while the mini-program sits in the background (a hot
  // start) reaches only onShow, with the new code's query; a cold start calls both.
  onShow(options) {
    // Opened through a channel's code: the visit is attributed, and a channel inviting to an
    // event opens that event's page (the code's scene alone cannot name a page's id).
    void enterThroughChannel(options.query).then((entry) => {
      if (entry?.eventId) wx.reLaunch({ url: `/pages/events/detail?id=${entry.eventId}` });
    });
  },
});
