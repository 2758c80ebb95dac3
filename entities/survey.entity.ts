import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A survey question beyond the satisfaction rating every survey asks first. */
export const SURVEY_QUESTION_KINDS = ['single', 'multiple', 'text'] as const;
export type SurveyQuestionKind = (typeof SURVEY_QUESTION_KINDS)[number];

export interface SurveyQuestion {
  /** `q1` ... : the answer's key. */
  key: string;
  kind: SurveyQuestionKind;
  label: string;
  required: boolean;
  /** The choices of `single` and `multiple`. */
  options?: string[];
}

/**
 * An event's satisfaction survey (满意度调查, issue 15 §5): at most one per event (the unique key),
 * a required 1–5 satisfaction rating (its wording in `satisfactionLabel`) and up to 10 more questions.
 */
@Entity('surveys')
@Index('UQ_surveys_event', ['eventId'], { unique: true })
export class Survey {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  eventId: number;

  @Column({ type: 'varchar', length: 128 })
  title: string;

  @Column({ type: 'varchar', length: 128 })
  satisfactionLabel: string;

  @Column({ type: 'json' })
  questions: SurveyQuestion[];

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;

  @Column({ type: 'datetime', precision: 3 })
  updatedAt: Date;
}
