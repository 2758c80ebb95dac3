/**
 * The 群发, 模板库 and 推送设置 screens' model: the API's shapes (server/http/admin-broadcasts.routes.ts,
 * admin-delivery-screens.routes.ts) and the pure helpers the views and their unit test share.
 */

export const BROADCAST_STATUSES = ['draft', 'scheduled', 'running', 'paused', 'done', 'cancelled'] as const;
export const DELIVERY_CHANNELS = ['oa_template', 'oa_subscribe', 'mp_subscribe', 'oa_custom', 'wecom_group_msg', 'sms'] as const;
export type DeliveryChannel = (typeof DELIVERY_CHANNELS)[number];

export interface BroadcastCounts {
  total: number;
  queued: number;
  /** Waiting for a WeCom rep to confirm (企业群发): not finished. */
  confirming: number;
  sent: number;
  failed: number;
  skipped: number;
  unknown: number;
  cancelled: number;
}

export interface BroadcastListItem extends BroadcastCounts {
  id: number;
  name: string;
  status: string;
  segmentId: number | null;
  channel: string;
  sendAt: string;
  createdAt: string;
  message: { template_id?: string; data?: Record<string, { value: string }>; url?: string };
}

export interface BroadcastProgress extends BroadcastCounts {
  id: number;
  name: string;
  status: string;
  sendAt: string;
  skippedByReason: Record<string, number>;
  expanded: boolean;
}

export interface TemplateField {
  key: string;
  label: string;
  kind: string;
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

export interface TemplateViolation {
  field: string;
  code: string;
  max?: number;
}

export interface DeliverySettings {
  quietHours: { start: string; end: string } | null;
  frequencyCaps: Record<DeliveryChannel, { count: number; hours: number } | null>;
}

/** Finished messages (sent, failed, skipped, unknown, cancelled; not queued or confirming) out of all, in per cent; 0 before the audience is counted. */
export function progressPercent(p: BroadcastCounts): number {
  if (p.total <= 0) return 0;
  const finished = p.total - p.queued - p.confirming;
  return Math.max(0, Math.min(100, Math.round((finished / p.total) * 100)));
}

/** A broadcast whose figures still move: the page polls it. */
export function isLive(status: string): boolean {
  return status === 'scheduled' || status === 'running';
}

export function canPause(status: string): boolean {
  return status === 'scheduled' || status === 'running';
}

export function canCancel(status: string): boolean {
  return status === 'draft' || status === 'scheduled' || status === 'running' || status === 'paused';
}

/** Values an example gives for the template's keywords, to start the form from (the operator edits them). */
export function exampleData(template: LibraryTemplate): Record<string, string> {
  return Object.fromEntries(template.fields.map((f) => [f.key, f.example ?? '']));
}

/** The follower's view of a template message: each keyword's label and the value typed for it. */
export function previewLines(template: LibraryTemplate, data: Record<string, string>): { label: string; value: string }[] {
  return template.fields.map((f) => ({ label: f.label, value: data[f.key] ?? '' }));
}

/** Characters as the platform counts them (code points). */
export function charCount(value: string): number {
  return [...value].length;
}

/** The violations of one keyword, as `{field: [violation]}`. */
export function violationsByField(violations: TemplateViolation[]): Record<string, TemplateViolation[]> {
  const out: Record<string, TemplateViolation[]> = {};
  for (const v of violations) (out[v.field] ??= []).push(v);
  return out;
}
