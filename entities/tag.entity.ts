import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

@Entity('tags')
@Index(['groupId', 'name'], { unique: true })
export class Tag {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  groupId: number;

  @Column({ type: 'varchar', length: 64 })
  name: string;

  /** The Official Account tag id once created there. */
  @Column({ type: 'int', nullable: true })
  oaTagId: number | null;

  /** The WeCom corp tag id once created there (or when the tag came from WeCom). */
  @Index({ unique: true })
  @Column({ type: 'varchar', length: 64, nullable: true })
  wecomTagId: string | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
