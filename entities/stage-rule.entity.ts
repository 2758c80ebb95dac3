import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { LifecycleStage } from './contact.entity';

/**
 * A lifecycle rule: `minCount` interactions of `interactionType` move a contact forward to
 * `stage` (never back; only an operator or a journey moves a stage back).
 */
@Entity('stage_rules')
export class StageRule {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'varchar', length: 48 })
  interactionType: string;

  @Column({ type: 'int', default: 1 })
  minCount: number;

  @Column({ type: 'varchar', length: 16 })
  stage: LifecycleStage;

  @Column({ type: 'boolean', default: true })
  enabled: boolean;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
