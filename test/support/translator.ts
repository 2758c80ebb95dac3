import type { Translator } from '../../web/shared/errors';

/**
 * The page's translator over a locale file, without Vue: `{name}` placeholders filled in, and a
 * missing key thrown, so that a label function asking for a message that does not exist fails.
 */
export function translatorOf(messages: object): Translator {
  const find = (key: string): unknown =>
    key.split('.').reduce<unknown>((node, part) => (node as Record<string, unknown> | undefined)?.[part], messages);
  return {
    has: (key) => typeof find(key) === 'string',
    t: (key, params) => {
      const message = find(key);
      if (typeof message !== 'string') throw new Error(`no message ${key}`);
      return message.replace(/\{(\w+)\}/g, (_, name: string) => String(params?.[name]));
    },
  };
}
