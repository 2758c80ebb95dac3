import { createI18n } from 'vue-i18n';
import type { Translator } from '../errors';
import en from './en';
import zhCN, { type Messages } from './zh-CN';

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
const STORAGE_KEY = 'fw_locale';

function storedLocale(): Locale {
  const stored = localStorage.getItem(STORAGE_KEY);
  return stored === 'en' || stored === 'zh-CN' ? stored : 'zh-CN';
}

export const i18n = createI18n<[Messages], Locale, false>({
  legacy: false,
  locale: storedLocale(),
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN, en },
});

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  localStorage.setItem(STORAGE_KEY, locale);
  document.documentElement.lang = locale;
}

/** For errors.ts: the global catalogue as a plain translator. */
export const translator: Translator = {
  has: (key) => i18n.global.te(key),
  t: (key, params) => (params ? i18n.global.t(key, params) : i18n.global.t(key)),
};
