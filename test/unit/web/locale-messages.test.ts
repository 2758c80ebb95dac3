import { createI18n } from 'vue-i18n';
import en from '../../../web/shared/i18n/en';
import zhCN from '../../../web/shared/i18n/zh-CN';

/**
 * Every message of both locales rendered once through vue-i18n itself, with a value for each
 * placeholder. vue-i18n reads `@` as a linked message, `|` as plural forms and `{x}` as a
 * placeholder: an unescaped one makes t() throw (the operator form then showed nothing at all)
 * or silently cuts the sentence. Each rendering must equal the message read literally.
 */
type Tree = { [key: string]: string | Tree };

function leaves(tree: Tree, prefix = ''): [string, string][] {
  return Object.entries(tree).flatMap(([key, value]): [string, string][] =>
    typeof value === 'string' ? [[`${prefix}${key}`, value]] : leaves(value, `${prefix}${key}.`),
  );
}

/** Placeholders `{name}` (not literals `{'x'}`) with a recognisable value each. */
function paramsOf(message: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const match of message.matchAll(/\{\s*(\w+)\s*\}/g)) params[match[1]] = `<${match[1]}>`;
  return params;
}

/** The message as a reader means it: literals unquoted, placeholders filled. */
function literally(message: string, params: Record<string, string>): string {
  return message.replace(/\{\s*(?:'([^']*)'|(\w+))\s*\}/g, (_, literal: string | undefined, name: string | undefined) =>
    literal !== undefined ? literal : params[name ?? ''],
  );
}

const catalogues = { 'zh-CN': zhCN as unknown as Tree, en: en as unknown as Tree };

describe('locale messages', () => {
  for (const [locale, catalogue] of Object.entries(catalogues)) {
    it(`renders every ${locale} message through vue-i18n exactly as written`, () => {
      const i18n = createI18n({ legacy: false, locale, messages: { [locale]: catalogue }, missingWarn: false, fallbackWarn: false });
      const entries = leaves(catalogue);
      expect(entries.length).toBeGreaterThan(300);
      const broken: string[] = [];
      for (const [key, message] of entries) {
        const params = paramsOf(message);
        let rendered: string;
        try {
          rendered = i18n.global.t(key, params);
        } catch (error) {
          broken.push(`${key}: throws ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
          continue;
        }
        if (rendered !== literally(message, params)) broken.push(`${key}: renders ${JSON.stringify(rendered)}`);
      }
      expect(broken).toEqual([]);
    });
  }

  it('has the same keys in both locales', () => {
    // Sorted: zh-CN is built from two parts (zh-CN-core.ts, zh-CN-screens.ts), so its sections come in another order.
    const keys = (tree: Tree) =>
      leaves(tree)
        .map(([key]) => key)
        .sort();
    expect(keys(catalogues.en)).toEqual(keys(catalogues['zh-CN']));
  });

  it('catches what vue-i18n would break (the check itself can fail)', () => {
    const i18n = createI18n({ legacy: false, locale: 'en', messages: { en: { at: 'a @ b', pipe: 'a | b', ok: "a {'@'} b" } } });
    expect(() => i18n.global.t('at')).toThrow();
    expect(i18n.global.t('pipe')).not.toBe(literally('a | b', {}));
    expect(i18n.global.t('ok')).toBe(literally("a {'@'} b", {}));
  });
});
