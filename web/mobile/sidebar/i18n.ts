import { shallowRef } from 'vue';
import { catalogueFor, loadEnglishShared, ZH_SHARED, type Locale } from './messages';

const STORAGE_KEY = 'fw_sidebar_locale';

/**
 * The sidebar's language: zh-CN unless this rep switched to English before (kept in this
 * browser). English's shared sentences (errors, stages) come with the admin's en.ts, fetched
 * only when a rep switches to it.
 */
export const locale = shallowRef<Locale>('zh-CN');
export const words = shallowRef(catalogueFor('zh-CN', ZH_SHARED));

export async function setLocale(next: Locale): Promise<void> {
  words.value = catalogueFor(next, next === 'en' ? await loadEnglishShared() : ZH_SHARED);
  locale.value = next;
  document.documentElement.lang = next;
  localStorage.setItem(STORAGE_KEY, next);
}

/** Applies the stored choice; resolves at once for zh-CN. */
export function restoreLocale(): Promise<void> {
  return localStorage.getItem(STORAGE_KEY) === 'en' ? setLocale('en').catch(() => undefined) : Promise.resolve();
}

/** "12月8日 09:30" in the rep's language and the device's zone. */
export function formatTime(iso: string): string {
  return new Intl.DateTimeFormat(locale.value, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' }).format(
    new Date(iso),
  );
}
