import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * registered | waitlisted → cancelled; waitlisted → registered when a seat frees. Checked in is a row in event_checkins.
 * A paid event's registration is `unpaid` (holding its seat) until its order is paid (→ registered), or
 * cancelled when the order closes, the pay window passes or the holder cancels.
 */
export const EVENT_REGISTRATION_STATUSES = ['registered', 'waitlisted', 'unpaid', 'cancelled'] as const;
export type EventRegistrationStatus = (typeof EVENT_REGISTRATION_STATUSES)[number];

/**
 * One person's registration for an event. The person is their phone (E.164): the unique key
 * (event, phone) is what makes "one registration per person per event" hold under races, not a
 * look before the insert. `ticketKey` is the ticket token's random part (the token is signed, so
 * the key alone forges nothing); a cancelled registration's ticket is revoked by its status.
 */
@Entity('event_registrations')
@Index('UQ_event_registrations_phone', ['eventId', 'phone'], { unique: true })
@Index('IDX_event_registrations_status', ['eventId', 'status', 'queuedAt'])
@Index('IDX_event_registrations_contact', ['contactId'])
export class EventRegistration {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  eventId: number;

  @Column({ type: 'int' })
  contactId: number;

  /** E.164 (`+8613812345678`). */
  @Column({ type: 'varchar', length: 20 })
  phone: string;

  @Column({ type: 'varchar', length: 128 })
  name: string;

  /** Every answer as validated (registration-form.ts), keyed by field. */
  @Column({ type: 'json' })
  answers: Record<string, string | number>;

  @Column({ type: 'varchar', length: 16 })
  status: EventRegistrationStatus;

  @Column({ type: 'varchar', length: 32 })
  ticketKey: string;

  /** `h5` (the public API) or `walk_in` (registered at a gate). */
  @Column({ type: 'varchar', length: 16 })
  source: string;

  @Column({ type: 'int', nullable: true })
  channelId: number | null;

  /** The invitation page's visitor id (event_visits), linking the registration to the visit for the report. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  visitorId: string | null;

  /** The privacy consent: when it was given, and from where. */
  @Column({ type: 'datetime', precision: 3 })
  consentAt: Date;

  @Column({ type: 'varchar', length: 64, nullable: true })
  consentIp: string | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  cancelledAt: Date | null;

  /**
   * When it joined the queue for a seat: the waitlist is served in this order. Set again when a
   * cancelled registration is made again, which goes to the back of the line like anyone new.
   */
  @Column({ type: 'datetime', precision: 3 })
  queuedAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
