import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** The channels a subscribe consent is for: the Official Account's bizsend, the mini-program's subscribe/send. */
export const SUBSCRIBE_CONSENT_CHANNELS = ['oa_subscribe', 'mp_subscribe'] as const;
export type SubscribeConsentChannel = (typeof SUBSCRIBE_CONSENT_CHANNELS)[number];

/**
 * `one_time` (一次性订阅): each accept allows one send. `long_term` (长期订阅): allowed until the
 * user turns it off; only some mini-program industries get it, and neither the popup event nor
 * wx.requestSubscribeMessage says which kind a template is, so every consent recorded today is
 * one-time; the column is there for when an operator marks a template long-term.
 */
export const SUBSCRIBE_CONSENT_KINDS = ['one_time', 'long_term'] as const;
export type SubscribeConsentKind = (typeof SUBSCRIBE_CONSENT_KINDS)[number];

/** The user's last answer for the template: SubscribeStatusString / the wx.requestSubscribeMessage result. */
export const SUBSCRIBE_CONSENT_STATUSES = ['accept', 'reject', 'ban'] as const;
export type SubscribeConsentStatus = (typeof SUBSCRIBE_CONSENT_STATUSES)[number];

/**
 * Whether a contact may be sent a subscribe message of a template, and how many times: one row per
 * (contact, channel, app, template). `remaining` counts the one-time grants not yet spent: each
 * accept adds one, each accepted send spends one by a guarded UPDATE (`remaining > 0`), and a ban,
 * a turned-off subscription or the platform's 43101 sets it to zero. Written only by
 * SubscribeConsentService (modules/subscribe-consent); moved with a contact merge.
 */
@Entity('subscribe_consents')
@Index('UQ_subscribe_consents_key', ['contactId', 'channel', 'appId', 'templateId'], { unique: true })
export class SubscribeConsent {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  contactId: number;

  @Column({ type: 'varchar', length: 16 })
  channel: SubscribeConsentChannel;

  @Column({ type: 'varchar', length: 64 })
  appId: string;

  @Column({ type: 'varchar', length: 128 })
  templateId: string;

  @Column({ type: 'varchar', length: 16, default: 'one_time' })
  kind: SubscribeConsentKind;

  @Column({ type: 'varchar', length: 16 })
  status: SubscribeConsentStatus;

  @Column({ type: 'int', default: 0 })
  remaining: number;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}

/**
 * Every consent answer applied to `subscribe_consents`, once: the unique key (`oa:<interaction
 * dedupe key>:<template>`, `mp:<report key>:<template>`) makes a replayed reaction or a re-sent
 * report add no second grant. Also the history of a contact's answers.
 */
@Entity('subscribe_consent_events')
@Index('UQ_subscribe_consent_events_key', ['dedupeKey'], { unique: true })
@Index('IDX_subscribe_consent_events_contact', ['contactId'])
export class SubscribeConsentEvent {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 191 })
  dedupeKey: string;

  @Column({ type: 'int' })
  contactId: number;

  @Column({ type: 'varchar', length: 16 })
  channel: SubscribeConsentChannel;

  @Column({ type: 'varchar', length: 64 })
  appId: string;

  @Column({ type: 'varchar', length: 128 })
  templateId: string;

  /** accept, reject, ban, or the mini-program's filter (recorded, changes nothing). */
  @Column({ type: 'varchar', length: 16 })
  status: string;

  /** popup (a prompt answered), change (the user's settings), report (the mini-program's result). */
  @Column({ type: 'varchar', length: 16 })
  source: string;

  @Column({ type: 'datetime', precision: 3 })
  at: Date;
}
