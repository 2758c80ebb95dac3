import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One opening of a material's page (`/c/<code>`), known visitor or not: the views and read time
 * the content centre counts. A known visitor's view is also a `content_view` interaction (its
 * dedupe key `content:view:<viewKey>`). The page's beacon sets `readSeconds` (the latest wins),
 * so a view is one row however many beacons arrive.
 */
@Entity('content_views')
@Index('IDX_content_views_material', ['materialId', 'viewedAt'])
export class ContentView {
  @PrimaryGeneratedColumn()
  id: number;

  /** Random, handed to the page for its beacon: the beacon proves nothing more than this. */
  @Index('UQ_content_views_key', { unique: true })
  @Column({ type: 'varchar', length: 32 })
  viewKey: string;

  @Column({ type: 'int' })
  materialId: number;

  /** The channel of `?ch=`, when it named an existing one. */
  @Column({ type: 'int', nullable: true })
  channelId: number | null;

  /** The anonymous visitor cookie (fw_vid): unique visitors without knowing who they are. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  visitorId: string | null;

  /** The contact, when the page knew the visitor. */
  @Column({ type: 'int', nullable: true })
  contactId: number | null;

  @Column({ type: 'int', default: 0 })
  readSeconds: number;

  @Column({ type: 'datetime', precision: 3 })
  viewedAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
