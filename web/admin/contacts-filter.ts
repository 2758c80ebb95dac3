/**
 * The contacts list's filter in the three forms the API takes: query parameters (list, count,
 * CSV export) and a JSON body (bulk tagging a whole filter). Pure, so jest tests it.
 */
export interface ContactFilters {
  q: string;
  tagId: number | null;
  stage: string;
  source: string;
  minScore: number | null;
  maxScore: number | null;
}

export function emptyContactFilters(): ContactFilters {
  return { q: '', tagId: null, stage: '', source: '', minScore: null, maxScore: null };
}

/** Only the filters that are set: the API rejects empty strings (`source` needs 1+ characters). */
export function filterBodyOf(filters: ContactFilters): Record<string, string | number> {
  const body: Record<string, string | number> = {};
  const q = filters.q.trim();
  const source = filters.source.trim();
  if (q) body.q = q;
  if (filters.tagId !== null) body.tagId = filters.tagId;
  if (filters.stage) body.stage = filters.stage;
  if (source) body.source = source;
  if (filters.minScore !== null && Number.isFinite(filters.minScore)) body.minScore = filters.minScore;
  if (filters.maxScore !== null && Number.isFinite(filters.maxScore)) body.maxScore = filters.maxScore;
  return body;
}

/** The CSV export of exactly this filter (a plain link: the cookie session authenticates a GET). */
export function csvHrefOf(filters: ContactFilters, locale?: string): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filterBodyOf(filters))) params.set(key, String(value));
  // Headers and stage words in the page's language (the server's default is zh-CN).
  if (locale) params.set('locale', locale);
  const text = params.toString();
  return `/api/admin/contacts.csv${text ? `?${text}` : ''}`;
}
