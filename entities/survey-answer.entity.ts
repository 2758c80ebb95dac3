import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * One person's answer to a survey, once: the unique key on (survey, contact) is what refuses a
 * second answer (409 `already_answered`), not a look before the insert. `event_id` is kept for the
 * report's one grouped query.
 */
@Entity('survey_answers')
@Index('UQ_survey_answers_contact', ['surveyId', 'contactId'], { unique: true })
@Index('IDX_survey_answers_event', ['eventId', 'satisfaction'])
export class SurveyAnswer {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'int' })
  surveyId: number;

  @Column({ type: 'int' })
  eventId: number;

  @Column({ type: 'int' })
  contactId: number;

  @Column({ type: 'int' })
  registrationId: number;

  /** 1 to 5. */
  @Column({ type: 'int' })
  satisfaction: number;

  /** The other questions' answers by key: a choice, several, or text. */
  @Column({ type: 'json' })
  answers: Record<string, string | string[]>;

  @Column({ type: 'datetime', precision: 3 })
  createdAt: Date;
}
