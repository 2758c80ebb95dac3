/**
 * Flywheel's mini-program. Pages are Component()s (so miniprogram-simulate can test them); each
 * calls Flywheel through utils/api.ts, which logs in on the first call.
 */
import { login } from './utils/api';

App({
  onLaunch() {
    // Log in early so the first page's call does not wait for it; a failure here is retried by
    // that call, which shows the message.
    login().catch(() => undefined);
  },
});
