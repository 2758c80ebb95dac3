/**
 * Where the mini-program finds Flywheel, per WeChat environment (wx.getAccountInfoSync's
 * envVersion). Nothing here is a secret: the AppSecret and session_key stay on the server, which
 * exchanges wx.login's code (code2Session) and the phone code itself.
 *
 * WeChat only lets a released or trial build call a domain listed under 开发管理 → 服务器域名 (HTTPS);
 * the developer tools and a phone preview with 不校验合法域名 call anything, so `develop` may point at
 * a laptop. On a phone 127.0.0.1 is the phone itself: set the LAN address once from the tools'
 * console with `wx.setStorageSync('fw:apiBase', 'http://192.168.1.20:3000')` (develop only; tests
 * use the same key to reach a test server on its own port).
 */
export type EnvVersion = 'develop' | 'trial' | 'release';

const API_BASES: Record<EnvVersion, string> = {
  develop: 'http://127.0.0.1:3000',
  trial: 'https://flywheel-staging.example.com',
  release: 'https://flywheel.example.com',
};

export const API_BASE_OVERRIDE_KEY = 'fw:apiBase';

export function envVersion(): EnvVersion {
  try {
    return wx.getAccountInfoSync().miniProgram.envVersion;
  } catch {
    // Older base libraries lack getAccountInfoSync; treat them as a release build.
    return 'release';
  }
}

export function apiBase(): string {
  const env = envVersion();
  if (env === 'develop') {
    const override: unknown = wx.getStorageSync(API_BASE_OVERRIDE_KEY);
    if (typeof override === 'string' && override !== '') return override.replace(/\/+$/, '');
  }
  return API_BASES[env];
}
