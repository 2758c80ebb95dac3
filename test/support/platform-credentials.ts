/** Credentials shaped like a real platform's, that are not the sandbox's: a deployment's own. */
export const REAL_WECHAT = {
  WECHAT_APPID: 'wxreal000000000001',
  WECHAT_SECRET: 'real-secret',
  WECHAT_TOKEN: 'realtoken',
  WECHAT_AES_KEY: 'ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut',
};

export const REAL_WECOM = {
  WECOM_CORP_ID: 'wwreal000000000001',
  WECOM_TOKEN: 'realwecomtoken',
  WECOM_AES_KEY: 'Q1w2E3r4T5y6U7i8O9p0AaSsDdFfGgHhJjKkLlZzXxC',
  WECOM_SECRET: 'real-wecom-secret',
};
