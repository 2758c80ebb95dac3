/** The content centre screen's shapes (server/modules/content/content.service.ts MaterialView). */
export const CONTENT_KINDS = ['article', 'image', 'video', 'pdf'] as const;
export type ContentKind = (typeof CONTENT_KINDS)[number];

export interface ContentStats {
  views: number;
  visitors: number;
  knownViews: number;
  avgReadSeconds: number | null;
}

export interface MaterialView {
  id: number;
  code: string;
  kind: ContentKind;
  status: 'active' | 'archived';
  title: string;
  summary: string | null;
  body?: string | null;
  file: { type: string; name: string | null; size: number; url: string; uploadedAt: string } | null;
  url: string;
  createdAt: string;
  updatedAt: string;
  archivedAt: string | null;
  stats: ContentStats;
  byChannel?: ({ channelId: number | null } & ContentStats)[];
}

export interface ContentForm {
  kind: ContentKind;
  title: string;
  summary: string;
  body: string;
}

export function newContentForm(): ContentForm {
  return { kind: 'article', title: '', summary: '', body: '' };
}

/** The create request: a body only for an article (the API refuses one on other kinds). */
export function contentCreateBody(form: ContentForm): Record<string, unknown> {
  const body: Record<string, unknown> = { kind: form.kind, title: form.title };
  if (form.summary.trim() !== '') body.summary = form.summary;
  if (form.kind === 'article' && form.body.trim() !== '') body.body = form.body;
  return body;
}

/** What the file picker offers for a kind (the server checks the bytes whatever is picked). */
export function acceptOf(kind: ContentKind): string {
  switch (kind) {
    case 'article':
    case 'image':
      return 'image/jpeg,image/png,image/gif,image/webp';
    case 'video':
      return 'video/mp4';
    case 'pdf':
      return 'application/pdf';
  }
}

/** The tracked link for a channel: `?ch=<id>` attributes each view to it. */
export function trackedLink(material: Pick<MaterialView, 'url'>, channelId: number | null): string {
  return channelId === null ? material.url : `${material.url}?ch=${channelId}`;
}

/** Seconds as 分/秒 or min/s, `—` before any read was reported. */
export function readTime(seconds: number | null, language: 'zh' | 'en'): string {
  if (seconds === null) return '—';
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (language === 'zh') return minutes > 0 ? `${minutes} 分 ${rest} 秒` : `${rest} 秒`;
  return minutes > 0 ? `${minutes} min ${rest} s` : `${rest} s`;
}

export function fileSize(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  return `${Math.max(1, Math.round(bytes / 1024))} KB`;
}
