import { readonly, ref, type Ref } from 'vue';

/**
 * Below 768 px the admin page is laid out for a phone: the menu is a drawer, dialogs take the
 * whole width, filter bars stack. style.css uses the same width in its media query; keep the two
 * in step.
 */
export const PHONE_QUERY = '(max-width: 767px)';

// One listener for the whole page: the answer changes only when the window is resized or turned.
const media = window.matchMedia(PHONE_QUERY);
const isPhone = ref(media.matches);
media.addEventListener('change', (event) => {
  isPhone.value = event.matches;
});

/** Whether the page is phone-width now; reactive, for the few layout choices CSS cannot make. */
export function useIsPhone(): Readonly<Ref<boolean>> {
  return readonly(isPhone);
}
