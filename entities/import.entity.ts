import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * staging → staged → done. `staging` while the file streams into import_rows (a crash leaves it
 * there, never applied); `staged` once every row is in and checked, waiting for the one apply
 * transaction (a failed apply leaves it `staged`, so it can be applied again); `done` once the
 * contacts, tags and interactions are committed. `failed`: the file itself was refused (too
 * large, not CSV, no phone column), its rows deleted.
 */
export const IMPORT_STATUSES = ['staging', 'staged', 'done', 'failed'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];

/**
 * One uploaded CSV of leads (exhibitors, partners): what it was, how it was read, what it gave.
 * `eventId` names an exhibition as a plain column (no foreign key: events are their own module).
 */
@Entity('imports')
@Index('IDX_imports_created', ['createdAt'])
export class Import {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 16, default: 'staging' })
  status: ImportStatus;

  @Column({ type: 'varchar', length: 255, nullable: true })
  fileName: string | null;

  /** How the bytes were decoded: `utf-8`, `utf-8-bom` or `gb18030` (GBK is a subset). */
  @Column({ type: 'varchar', length: 16, nullable: true })
  encoding: string | null;

  @Column({ type: 'int', nullable: true })
  eventId: number | null;

  /** The tags applied to every imported contact, `group:name` as the operator gave them (JSON array). */
  @Column({ type: 'text' })
  tags: string;

  /** Whether a value in the file replaces a contact's non-empty field (else only empty ones are filled). */
  @Column({ type: 'boolean', default: false })
  overwrite: boolean;

  /** The file's header row as read (JSON array), for the refused rows' CSV. */
  @Column({ type: 'text', nullable: true })
  header: string | null;

  /** Data rows read (empty lines left out). */
  @Column({ type: 'int', default: 0 })
  total: number;

  @Column({ type: 'int', default: 0 })
  refused: number;

  /** Rows naming a person an earlier row of the file already named. */
  @Column({ type: 'int', default: 0 })
  duplicates: number;

  @Column({ type: 'int', default: 0 })
  created: number;

  @Column({ type: 'int', default: 0 })
  updated: number;

  /** Why the last apply failed (the import stays `staged`), or why the file was refused. */
  @Column({ type: 'varchar', length: 255, nullable: true })
  error: string | null;

  @Column({ type: 'int', nullable: true })
  operatorId: number | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;

  @Column({ type: 'datetime', precision: 3, nullable: true })
  appliedAt: Date | null;
}
