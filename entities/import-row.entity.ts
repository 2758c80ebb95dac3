import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** `valid`: to import; `refused`: a bad row (code and message say why); `duplicate`: an earlier row named the same person. */
export const IMPORT_ROW_STATUSES = ['valid', 'refused', 'duplicate'] as const;
export type ImportRowStatus = (typeof IMPORT_ROW_STATUSES)[number];

/**
 * One data row of an import, cleaned, staged before anything touches contacts: the apply reads
 * these with set-based statements (joins on the identities), never row by row.
 */
@Entity('import_rows')
@Index('UQ_import_rows_row', ['importId', 'rowNo'], { unique: true })
// The apply's joins on contacts and the search-terms task walk an import's rows by contact.
@Index('IDX_import_rows_contact', ['importId', 'contactId'])
export class ImportRow {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  importId: number;

  /** The row as Excel numbers it: the header is row 1. */
  @Column({ type: 'int' })
  rowNo: number;

  @Column({ type: 'varchar', length: 16 })
  status: ImportRowStatus;

  /** E.164 (`+8613812345678`), the phone identity's value. */
  @Column({ type: 'varchar', length: 20, nullable: true })
  phone: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  name: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  company: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  title: string | null;

  @Column({ type: 'varchar', length: 254, nullable: true })
  email: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  unionid: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  externalUserId: string | null;

  @Column({ type: 'varchar', length: 128, nullable: true })
  openid: string | null;

  /** Why a row was refused (`phone_invalid` ...), or for a duplicate `duplicate_in_file`. */
  @Column({ type: 'varchar', length: 32, nullable: true })
  code: string | null;

  @Column({ type: 'varchar', length: 255, nullable: true })
  message: string | null;

  /** A refused row's cells as read (JSON array), for the refused rows' CSV. */
  @Column({ type: 'text', nullable: true })
  raw: string | null;

  /** The contact the row became (set by the apply). */
  @Column({ type: 'int', nullable: true })
  contactId: number | null;

  /** Set by the apply: whether the contact was made by this import. */
  @Column({ type: 'boolean', default: false })
  created: boolean;
}
