import { Column, Entity, ForeignKey, Index, PrimaryGeneratedColumn } from 'typeorm';
import { Event } from './event.entity';

/** What a channel code is on the platform (server/modules/channels). */
export const CHANNEL_KINDS = ['oa_qr', 'wecom_contact_way', 'mp_code', 'h5'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** `pending` only between the insert and the platform's answer at creation; `archived` codes still attribute. */
export const CHANNEL_STATUSES = ['pending', 'active', 'archived'] as const;
export type ChannelStatus = (typeof CHANNEL_STATUSES)[number];

/** The kind's settings, as created on the platform (they cannot change afterwards). */
export interface ChannelOptions {
  /** oa_qr: a temporary code (QR_STR_SCENE) for this many seconds, or permanent (QR_LIMIT_STR_SCENE) when absent. */
  expireSeconds?: number;
  /** wecom_contact_way: 1 = one member (单人), 2 = several (多人), and their userids. */
  wecomType?: 1 | 2;
  userIds?: string[];
  /** mp_code: the page the code opens (no leading slash, no query). */
  page?: string;
  /** Any kind: the welcome carries this product's offer link (/e/offer/<id>, the trial offer 一元体验). */
  offerProductId?: number;
}

/**
 * A channel code (渠道活码): one QR code or link whose scans, adds and visits are attributed to
 * it. Its scene (`ch:<id>`) is what the platform hands back in the callback. `eventId` names an
 * exhibition event (a foreign key: a deleted event leaves its channels without one).
 */
@Entity('channels')
export class Channel {
  @PrimaryGeneratedColumn()
  id: number;

  @Index('UQ_channels_name', { unique: true })
  @Column({ type: 'varchar', length: 64 })
  name: string;

  @Column({ type: 'varchar', length: 24 })
  kind: ChannelKind;

  @Column({ type: 'varchar', length: 16, default: 'pending' })
  status: ChannelStatus;

  /** `ch:<id>`: the QR scene, contact-way state and mini-program scene; null until the id is known. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  scene: string | null;

  /** What the channel cost, in fen (分), for the cost per new contact. */
  @Column({ type: 'int', nullable: true })
  costFen: number | null;

  /** An exhibition event the channel invites to (migration 1796300000000 added the foreign key). */
  @Column({ type: 'int', nullable: true })
  @ForeignKey(() => Event, { name: 'FK_channels_event', onDelete: 'SET NULL' })
  eventId: number | null;

  /** Flywheel tag ids applied to whoever comes through. */
  @Column({ type: 'json' })
  tagIds: number[];

  /** The welcome text (WeCom send_welcome_msg, Official Account passive reply). */
  @Column({ type: 'text', nullable: true })
  welcome: string | null;

  @Column({ type: 'json' })
  options: ChannelOptions;

  /** oa_qr: the code's content URL; wecom_contact_way: its qr_code image URL; h5: the link. */
  @Column({ type: 'varchar', length: 1024, nullable: true })
  url: string | null;

  /** oa_qr: the ticket for showqrcode. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  ticket: string | null;

  /** wecom_contact_way: the config_id (to update or delete the contact way). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  configId: string | null;

  /** A temporary Official Account code stops working at this time. */
  @Column({ type: 'datetime', precision: 3, nullable: true })
  expiresAt: Date | null;

  @Column({ type: 'int', nullable: true })
  createdBy: number | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  archivedAt: Date | null;
}
