/** The channel codes screen's shapes (server/modules/channels/channels.service.ts ChannelView). */
export const CHANNEL_KINDS = ['oa_qr', 'wecom_contact_way', 'mp_code', 'h5'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export interface ChannelView {
  id: number;
  name: string;
  kind: ChannelKind;
  status: 'active' | 'archived';
  scene: string;
  cost: number | null;
  eventId: number | null;
  tags: { id: number; name: string }[];
  welcome: string | null;
  options: { expireSeconds?: number; userIds?: string[]; page?: string; offerProductId?: number };
  url: string | null;
  qrImageUrl: string;
  expiresAt: string | null;
  createdAt: string;
  stats: { scans: number; newContacts: number; costPerNewContact: number | null };
}

export interface ChannelForm {
  name: string;
  kind: ChannelKind;
  cost: number | null;
  tags: number[];
  welcome: string;
  /** oa_qr: temporary for this many days; permanent when 0. */
  days: number;
  userIds: string;
  page: string;
  path: string;
  /** The event the channel invites to (an H5 link then opens its invitation page). */
  eventId: number | null;
  /** A product whose offer link (the trial offer 一元体验) the welcome carries. */
  offerProductId: number | null;
}

export function newChannelForm(): ChannelForm {
  return {
    name: '',
    kind: 'oa_qr',
    cost: null,
    tags: [],
    welcome: '',
    days: 0,
    userIds: '',
    page: '',
    path: '',
    eventId: null,
    offerProductId: null,
  };
}

/** The create request for the form's kind: fields of other kinds are left out (the API refuses them). */
export function createBody(form: ChannelForm): Record<string, unknown> {
  const body: Record<string, unknown> = { name: form.name, kind: form.kind, tags: form.tags };
  if (form.cost !== null) body.cost = form.cost;
  if (form.eventId !== null) body.eventId = form.eventId;
  if (form.welcome.trim() !== '') body.welcome = form.welcome;
  if (form.offerProductId !== null && welcomeApplies(form.kind)) body.offerProductId = form.offerProductId;
  if (form.kind === 'oa_qr' && form.days > 0) body.expireSeconds = Math.round(form.days * 86_400);
  if (form.kind === 'wecom_contact_way')
    body.userIds = form.userIds
      .split(/[\s,，]+/)
      .map((id) => id.trim())
      .filter((id) => id !== '');
  if (form.kind === 'mp_code' && form.page.trim() !== '') body.page = form.page.trim();
  if (form.kind === 'h5' && form.path.trim() !== '') body.path = form.path.trim();
  return body;
}

/** Whether the kind's welcome reaches anyone: WeCom send_welcome_msg, or the OA subscribe's passive reply. */
export function welcomeApplies(kind: ChannelKind): boolean {
  return kind === 'oa_qr' || kind === 'wecom_contact_way';
}
