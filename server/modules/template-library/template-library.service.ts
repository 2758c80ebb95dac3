import type { Clock } from '../../adapters/clock';
import type { PrivateTemplate } from '../../adapters/official-account.client';
import { checkTemplateMessage, fieldKindOf, type TemplateRuleViolation } from '../../wechat/template-message';

/** One keyword of a template as the page's form shows it: `{{thing1.DATA}}` after the label `活动名称`. */
export interface TemplateField {
  key: string;
  label: string;
  /** The keyword's kind (`thing`, `time`, `amount` ...): the field rule that applies. */
  kind: string;
  /** The example's value for this keyword, when the platform gave one. */
  example: string | null;
}

export interface LibraryTemplate {
  templateId: string;
  title: string;
  primaryIndustry: string | null;
  deputyIndustry: string | null;
  content: string;
  example: string | null;
  fields: TemplateField[];
}

export interface TemplateLibraryServiceDeps {
  /** get_all_private_template through the Official Account client; null: no Official Account. */
  listPrivateTemplates: (() => Promise<PrivateTemplate[]>) | null;
  clock: Clock;
}

/** The library changes when someone adds a template in the console: a minute's copy spares the API's daily quota. */
const CACHE_MS = 60_000;

/**
 * The Official Account's template library (模板库) as the admin page shows it: synced from WeChat
 * on demand (get_all_private_template), each template's keywords read from its content so the
 * page can offer one input per keyword, and the platform's field rules (server/wechat/template-message.ts,
 * the same check the broadcast API and the sender apply) run on what the operator typed.
 */
export class TemplateLibraryService {
  private cache: { at: number; templates: LibraryTemplate[] } | null = null;

  constructor(private readonly deps: TemplateLibraryServiceDeps) {}

  get enabled(): boolean {
    return this.deps.listPrivateTemplates !== null;
  }

  /** The library, from the cache unless `refresh` or older than CACHE_MS; empty without an Official Account. */
  async listTemplates(p: { refresh?: boolean } = {}): Promise<{ items: LibraryTemplate[]; syncedAt: string | null }> {
    const list = this.deps.listPrivateTemplates;
    if (!list) return { items: [], syncedAt: null };
    const now = this.deps.clock.now().getTime();
    if (p.refresh || !this.cache || now - this.cache.at > CACHE_MS)
      this.cache = { at: now, templates: (await list()).map(toLibraryTemplate) };
    return { items: this.cache.templates, syncedAt: new Date(this.cache.at).toISOString() };
  }

  /** The rules a draft breaks (empty: it may be sent). */
  checkDraft(draft: { templateId: string; data: Record<string, string>; url?: string | null }): TemplateRuleViolation[] {
    return checkTemplateMessage(draft);
  }
}

const KEYWORD = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\.DATA\s*\}\}/g;

/** Reads `活动名称:{{thing1.DATA}}\n...` into its keywords with their labels, and the example's values by label. */
export function toLibraryTemplate(t: PrivateTemplate): LibraryTemplate {
  const examples = new Map<string, string>();
  for (const line of (t.example ?? '').split('\n')) {
    const match = /^(.*?)[:：](.*)$/.exec(line.trim());
    if (match) examples.set(match[1].trim(), match[2].trim());
  }
  const fields: TemplateField[] = [];
  for (const line of t.content.split('\n')) {
    for (const match of line.matchAll(KEYWORD)) {
      const key = match[1];
      const label = line
        .slice(0, match.index)
        .replace(KEYWORD, '')
        .replace(/[:：\s]+$/, '')
        .trim();
      fields.push({ key, label: label || key, kind: fieldKindOf(key), example: examples.get(label) ?? null });
    }
  }
  return {
    templateId: t.template_id,
    title: t.title,
    primaryIndustry: t.primary_industry ?? null,
    deputyIndustry: t.deputy_industry ?? null,
    content: t.content,
    example: t.example ?? null,
    fields,
  };
}
