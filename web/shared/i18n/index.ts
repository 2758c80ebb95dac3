import { createI18n } from 'vue-i18n';
import type { Translator } from '../errors';
import type { Messages } from './zh-CN';
import zhCNCore from './zh-CN-core';

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
const STORAGE_KEY = 'fw_locale';

const isLocale = (value: string | null): value is Locale => value === 'en' || value === 'zh-CN';

/**
 * The operator's own choice when this browser stored one, else the installation's default
 * (ADMIN_LOCALE), which the server writes into index.html's `<html lang>`.
 */
function initialLocale(): Locale {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (isLocale(stored)) return stored;
  const served = document.documentElement.lang;
  return isLocale(served) ? served : 'zh-CN';
}

const startLocale = initialLocale();
// The stored choice may differ from what the server wrote: screen readers and the browser's
// translation offer read `lang`.
document.documentElement.lang = startLocale;

export const i18n = createI18n<[Messages], Locale, false>({
  legacy: false,
  locale: startLocale,
  fallbackLocale: 'zh-CN',
  // zh-CN is the default and the fallback, so its core ships with the page and the signed-in
  // screens' part follows after sign-in (loadScreenMessages); English is its own chunk, fetched
  // only by a browser that shows it (the login page stays under its 120 KB goal).
  messages: { 'zh-CN': zhCNCore } as Record<Locale, Messages>,
});

let screenMessages: Promise<void> | null = null;

/**
 * The zh-CN messages of the screens behind sign-in: the router awaits them before it enters any
 * signed-in page. English has them in its one chunk.
 */
export function loadScreenMessages(): Promise<void> {
  screenMessages ??= import('./zh-CN-screens').then(
    (module) => i18n.global.mergeLocaleMessage('zh-CN', module.default),
    (error: unknown) => {
      screenMessages = null;
      throw error;
    },
  );
  return screenMessages;
}

const loaded = new Set<Locale>(['zh-CN']);

async function loadMessages(locale: Locale): Promise<void> {
  if (loaded.has(locale)) return;
  const messages = (await import('./en')).default;
  i18n.global.setLocaleMessage(locale, messages);
  loaded.add(locale);
}

function applyLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  document.documentElement.lang = locale;
}

/**
 * Resolves once the starting locale's messages are there; main.ts mounts the page after it, so
 * an English page never flashes Chinese first. Should the English chunk fail to load, the page
 * shows zh-CN rather than nothing.
 */
export const localeReady: Promise<void> = loadMessages(startLocale).catch(() => applyLocale('zh-CN'));

export async function setLocale(locale: Locale): Promise<void> {
  await loadMessages(locale);
  applyLocale(locale);
  localStorage.setItem(STORAGE_KEY, locale);
}

/** For errors.ts: the global catalogue as a plain translator. */
export const translator: Translator = {
  has: (key) => i18n.global.te(key),
  t: (key, params) => (params ? i18n.global.t(key, params) : i18n.global.t(key)),
};
