/**
 * The public exhibitions API as the pages call it (EVENTS-CONTRACT: GET /api/events/:eventId and
 * the registration, visit, SMS and ticket calls). Fetches go through web/shared/api.ts, which
 * turns a refusal into an ApiError carrying `{code, message, details}`.
 */
import { api } from '@shared/api';
import type { RegistrationField } from '@shared/registration-form';
import type { Venue } from './map-links';
import type { PayParams } from './offer-api';

export type EventStatus = 'open' | 'full' | 'closed' | 'ended';

export interface PublicEvent {
  id: number | string;
  name: string;
  venue: Venue;
  startsAt: string;
  endsAt: string;
  registrationDeadline: string;
  capacity: number;
  registered: number;
  status: EventStatus;
  fields: RegistrationField[];
  agenda: { time: string; title: string; speaker?: string | null }[] | null;
  benefit: { kind: 'gift' | 'coupon'; description: string } | null;
  facts: { weather?: string | null; traffic?: string | null; expectedHeadcount?: number | null } | null;
  smsVerification: boolean;
  waitlist: boolean;
  /** Paid tickets: the price in fen; null (or absent from an older server) for a free event. */
  ticketPriceFen?: number | null;
}

export interface RegistrationBody {
  answers: Record<string, string>;
  consent: true;
  channelId?: number;
  smsCode?: string;
  visitorId?: string;
}

/** A paid registration's order: its id (polled until paid) and the pay-sign parameters for WeChat. */
export interface RegistrationPayment {
  orderId: number;
  payParams: PayParams;
}

export interface Registered {
  registrationId: number | string;
  /** `unpaid`: a paid event's registration, valid once `payment` is paid. */
  status: 'registered' | 'unpaid';
  ticket: { token: string; qrImageUrl: string };
  payment?: RegistrationPayment;
}

export type TicketStatus = 'valid' | 'revoked' | 'checked_in' | 'waitlisted' | 'unpaid';

export interface PublicTicket {
  status: TicketStatus;
  eventName: string;
  name: string;
  startsAt: string;
  ticketPriceFen?: number | null;
}

export type CloudSection = 'materials' | 'products' | 'cases';

export interface CloudItem {
  title: string;
  kind: 'article' | 'image' | 'video' | 'pdf';
  summary: string | null;
  cover: string | null;
  /** The material's tracked link (/c/<code>?ch=&ev=): opening it counts the view for the event. */
  url: string;
}

export interface PublicCloud {
  event: { id: number; name: string; startsAt: string; endsAt: string };
  sections: Record<CloudSection, CloudItem[]>;
}

export interface ConsultBody {
  message: string;
  phone?: string;
  name?: string;
  channelId?: number;
}

const base = (eventId: string): string => `/api/events/${encodeURIComponent(eventId)}`;

export const eventApi = {
  event: (eventId: string) => api.get<PublicEvent>(base(eventId)),
  visit: (eventId: string, body: { channelId?: number; visitorId: string }) => api.post<void>(`${base(eventId)}/visits`, body),
  smsCode: (eventId: string, phone: string) => api.post<void>(`${base(eventId)}/sms-codes`, { phone }),
  register: (eventId: string, body: RegistrationBody) => api.post<Registered>(`${base(eventId)}/registrations`, body),
  ticket: (eventId: string, token: string) => api.get<PublicTicket>(`${base(eventId)}/tickets/${encodeURIComponent(token)}`),
  cancel: (eventId: string, token: string) => api.post<{ status: 'cancelled' }>(`${base(eventId)}/registrations/cancel`, { token }),
  /** An unpaid ticket's 去支付: its order's pay-sign parameters again. */
  pay: (eventId: string, token: string) => api.post<RegistrationPayment>(`${base(eventId)}/registrations/pay`, { token }),
  cloud: (eventId: string, channelId?: number) => api.get<PublicCloud>(`${base(eventId)}/cloud${channelId ? `?ch=${channelId}` : ''}`),
  cloudVisit: (eventId: string, body: { channelId?: number; visitorId: string }) =>
    api.post<{ known: boolean }>(`${base(eventId)}/cloud/visits`, body),
  consult: (eventId: string, body: ConsultBody) => api.post<{ consultId: string }>(`${base(eventId)}/consults`, body),
  qrImageUrl: (eventId: string, token: string) => `${base(eventId)}/tickets/${encodeURIComponent(token)}/qr.png`,
};
