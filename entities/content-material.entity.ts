import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** What a material is (server/modules/content): an article, or one file shown as it is. */
export const CONTENT_KINDS = ['article', 'image', 'video', 'pdf'] as const;
export type ContentKind = (typeof CONTENT_KINDS)[number];

export const CONTENT_STATUSES = ['active', 'archived'] as const;
export type ContentStatus = (typeof CONTENT_STATUSES)[number];

/**
 * A material of the content centre (内容中心): kept once, shared to every channel through its
 * tracked link `/c/<code>?ch=<channelId>`. Its one file (the image, video or PDF; an article's
 * cover) is in the content store under `fileKey`; an article's body is Markdown, rendered with
 * every HTML character escaped, so nothing stored can carry a script.
 */
@Entity('content_materials')
@Index('IDX_content_materials_status', ['status', 'id'])
export class ContentMaterial {
  @PrimaryGeneratedColumn()
  id: number;

  /** The link's code: random, unguessable (72 bits), so a material cannot be found by counting. */
  @Index('UQ_content_materials_code', { unique: true })
  @Column({ type: 'varchar', length: 16 })
  code: string;

  @Column({ type: 'varchar', length: 16 })
  kind: ContentKind;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status: ContentStatus;

  @Column({ type: 'varchar', length: 128 })
  title: string;

  @Column({ type: 'varchar', length: 512, nullable: true })
  summary: string | null;

  /** An article's body in Markdown (at most 60,000 UTF-8 bytes: it fits MySQL's TEXT). */
  @Column({ type: 'text', nullable: true })
  body: string | null;

  /** Where the file is in the content store; null until one is uploaded. */
  @Column({ type: 'varchar', length: 191, nullable: true })
  fileKey: string | null;

  /** The type the file's first bytes showed (never the uploader's word for it). */
  @Column({ type: 'varchar', length: 64, nullable: true })
  fileType: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  fileName: string | null;

  @Column({ type: 'int', nullable: true })
  fileSize: number | null;

  /** Hex SHA-256 of the file: its strong ETag. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  fileSha256: string | null;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  fileUploadedAt: Date | null;

  @Column({ type: 'int', nullable: true })
  createdBy: number | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  archivedAt: Date | null;
}
