import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A registration form field's kind: each is validated by server/modules/exhibitions/registration-form.ts. */
export const EVENT_FIELD_TYPES = ['text', 'phone', 'email', 'number', 'select', 'textarea'] as const;
export type EventFieldType = (typeof EVENT_FIELD_TYPES)[number];

export interface EventField {
  key: string;
  label: string;
  type: EventFieldType;
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

export interface EventBenefit {
  kind: 'gift' | 'coupon';
  description: string;
}

export interface EventAgendaItem {
  time: string;
  title: string;
  speaker?: string;
}

/** Event-day facts the operator writes (the reminder carries them). */
export interface EventFacts {
  weather?: string;
  traffic?: string;
  expectedHeadcount?: number;
}

/**
 * An exhibition event (issue 15 §2). `registered` counts the seats taken (registrations in
 * `registered` state, walk-ins included): a registration takes its seat with one conditional
 * UPDATE of this row (`WHERE registered < capacity`), so two people can never take the last seat.
 */
@Entity('events')
export class Event {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 128 })
  name: string;

  @Column({ type: 'json' })
  venue: EventVenue;

  @Column({ type: 'datetime', precision: 3 })
  startsAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  endsAt: Date;

  @Column({ type: 'int' })
  capacity: number;

  @Column({ type: 'int', default: 0 })
  registered: number;

  @Column({ type: 'datetime', precision: 3 })
  registrationDeadline: Date;

  @Column({ type: 'json' })
  fields: EventField[];

  @Column({ type: 'json', nullable: true })
  benefit: EventBenefit | null;

  @Column({ type: 'json' })
  agenda: EventAgendaItem[];

  @Column({ type: 'json' })
  facts: EventFacts;

  /** Registration needs an SMS code sent to the phone (off by default). */
  @Column({ type: 'boolean', default: false })
  smsVerification: boolean;

  /** A registration past capacity is kept as waitlisted (else refused). */
  @Column({ type: 'boolean', default: false })
  waitlist: boolean;

  /**
   * The ticket's price in fen (paid tickets, issue 15 §7); null: a free event. A paid event keeps
   * no waitlist: a promoted waitlisted person would have to pay on notice, which is not built.
   */
  @Column({ type: 'int', nullable: true })
  ticketPriceFen: number | null;

  @Column({ type: 'int', nullable: true })
  createdBy: number | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
