/** The events (展会) screens' shapes and the pure parts of their forms (server/modules/exhibitions). */
import { ApiError, api } from '../shared/api';
import { ScanNotAnswered, type PendingScan, type ScanAnswer } from './scan-queue';

export const FIELD_TYPES = ['text', 'phone', 'email', 'number', 'select', 'textarea'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export interface EventField {
  key: string;
  label: string;
  type: FieldType;
  required: boolean;
  options?: string[];
  maxLength?: number;
}

export interface EventVenue {
  name?: string;
  address: string;
  lat?: number;
  lng?: number;
}

export interface EventView {
  id: number;
  name: string;
  venue: EventVenue;
  startsAt: string;
  endsAt: string;
  registrationDeadline: string;
  capacity: number;
  registered: number;
  status: 'open' | 'full' | 'closed' | 'ended';
  fields: EventField[];
  agenda: { time: string; title: string; speaker?: string }[];
  benefit: { kind: 'gift' | 'coupon'; description: string } | null;
  facts: { weather?: string; traffic?: string; expectedHeadcount?: number } | null;
  smsVerification: boolean;
  waitlist: boolean;
  /** Paid tickets: the price in fen, null for a free event. */
  ticketPriceFen?: number | null;
}

export interface Headcount {
  total: number;
  byGate: { gate: string; count: number }[];
}

/** The form behind "新建活动": strings and numbers as the inputs hold them. */
export interface EventForm {
  name: string;
  venueName: string;
  address: string;
  /** [start, end] as the date-time range picker gives them (ISO strings). */
  range: [string, string] | null;
  registrationDeadline: string | null;
  capacity: number;
  /** The fields beyond name and phone, which every event's form has. */
  fields: EventField[];
  benefitKind: 'none' | 'gift' | 'coupon';
  benefit: string;
  agenda: string;
  weather: string;
  traffic: string;
  expectedHeadcount: number | null;
  smsVerification: boolean;
  waitlist: boolean;
  /** The ticket's price in yuan (two decimals); null: a free event. */
  ticketPrice: number | null;
}

export function newEventForm(): EventForm {
  return {
    name: '',
    venueName: '',
    address: '',
    range: null,
    registrationDeadline: null,
    capacity: 200,
    fields: [
      { key: 'company', label: '公司', type: 'text', required: true, maxLength: 64 },
      { key: 'title', label: '职位', type: 'text', required: false, maxLength: 32 },
    ],
    benefitKind: 'none',
    benefit: '',
    agenda: '',
    weather: '',
    traffic: '',
    expectedHeadcount: null,
    smsVerification: false,
    waitlist: true,
    ticketPrice: null,
  };
}

/** The built-in fields every registration form starts with (the server adds them when missing). */
export const BUILT_IN_FIELDS: EventField[] = [
  { key: 'name', label: '姓名', type: 'text', required: true, maxLength: 32 },
  { key: 'phone', label: '手机号', type: 'phone', required: true },
];

/**
 * The agenda as the operator types it, one item a line: `09:30 开幕致辞 / 张三` (time, title, and
 * an optional speaker after a slash). Lines without a leading HH:MM are refused by the server's
 * validation, so they are kept as typed and the server names the line.
 */
export function parseAgenda(text: string): { time: string; title: string; speaker?: string }[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => {
      const match = /^(\d{1,2}:\d{2})\s+(.*)$/.exec(line);
      const time = match ? match[1].padStart(5, '0') : '';
      const rest = match ? match[2] : line;
      const [title, ...speaker] = rest.split(/\s*[/／]\s*/);
      return speaker.length > 0 && speaker.join('/').trim() !== '' ? { time, title, speaker: speaker.join('/') } : { time, title };
    });
}

/** The create request (POST /api/admin/events) from the form. */
export function createEventBody(form: EventForm): Record<string, unknown> {
  const [startsAt, endsAt] = form.range ?? ['', ''];
  const facts: Record<string, unknown> = {};
  if (form.weather.trim() !== '') facts.weather = form.weather.trim();
  if (form.traffic.trim() !== '') facts.traffic = form.traffic.trim();
  if (form.expectedHeadcount !== null) facts.expectedHeadcount = form.expectedHeadcount;
  return {
    name: form.name.trim(),
    venue: { ...(form.venueName.trim() !== '' ? { name: form.venueName.trim() } : {}), address: form.address.trim() },
    startsAt,
    endsAt,
    registrationDeadline: form.registrationDeadline ?? startsAt,
    capacity: form.capacity,
    fields: [...BUILT_IN_FIELDS, ...form.fields.map(cleanField)],
    benefit: form.benefitKind === 'none' ? null : { kind: form.benefitKind, description: form.benefit.trim() },
    agenda: parseAgenda(form.agenda),
    facts,
    smsVerification: form.smsVerification,
    // A paid event keeps no waitlist (the server refuses one: paid_event_waitlist).
    waitlist: form.waitlist && form.ticketPrice === null,
    ticketPriceFen: form.ticketPrice === null ? null : Math.round(form.ticketPrice * 100),
  };
}

function cleanField(field: EventField): EventField {
  const cleaned: EventField = { key: field.key.trim(), label: field.label.trim(), type: field.type, required: field.required };
  if (field.type === 'select') cleaned.options = (field.options ?? []).map((option) => option.trim()).filter((option) => option !== '');
  if (field.maxLength !== undefined && (field.type === 'text' || field.type === 'textarea')) cleaned.maxLength = field.maxLength;
  return cleaned;
}

/** A new custom field row: its key is made from its position, which the operator may rename. */
export function newField(existing: EventField[]): EventField {
  let n = existing.length + 1;
  while (existing.some((field) => field.key === `field${n}`)) n += 1;
  return { key: `field${n}`, label: '', type: 'text', required: false };
}

/** The public invitation page of an event, optionally through a channel. */
export function invitationUrl(origin: string, eventId: number, channelId?: number): string {
  return `${origin}/e/${eventId}${channelId === undefined ? '' : `?ch=${channelId}`}`;
}

/**
 * Sends one scan to the check-in API. An answer (2xx, or a 4xx refusal with its reason) ends the
 * scan; no answer, a 5xx, a 401 (the session lapsed: sign in, then the queue flushes) or a 429
 * keeps it queued with its nonce.
 */
export async function sendScan(eventId: number, scan: PendingScan): Promise<ScanAnswer> {
  try {
    const answer = await api.post<{ registrationId: number; name?: string; benefit?: { kind: string; description: string } | null }>(
      `/api/admin/events/${eventId}/checkins`,
      { token: scan.token, gate: scan.gate, nonce: scan.nonce },
      { quiet: true },
    );
    return { kind: 'checked_in', registrationId: answer.registrationId, name: answer.name, benefit: answer.benefit ?? null };
  } catch (caught) {
    if (caught instanceof ApiError && caught.status < 500 && caught.status !== 401 && caught.status !== 429)
      return { kind: 'refused', code: caught.code, details: (caught.body.details ?? {}) as Record<string, unknown> };
    throw new ScanNotAnswered(caught instanceof Error ? caught.message : String(caught));
  }
}
