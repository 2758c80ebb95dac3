import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

@Entity('tag_groups')
export class TagGroup {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 64, unique: true })
  name: string;

  /** Mirror this group's tags to Official Account tags (the account holds at most 100). */
  @Column({ type: 'boolean', default: true })
  syncOa: boolean;

  /** Mirror this group's tags to WeCom corp tags. */
  @Column({ type: 'boolean', default: true })
  syncWecom: boolean;

  @Column({ type: 'varchar', length: 64, nullable: true })
  wecomGroupId: string | null;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
