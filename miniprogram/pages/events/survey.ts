/**
 * 满意度调查: the event's survey (`?id=<event>`) for this user, a registrant (GET
 * /api/mp/events/:id/survey; 403 not_registered, 404 survey_not_found), answered once: a 1–5
 * rating and the operator's questions, checked by the server as the H5 page's answers are (its
 * `validation_failed` names each field), a second answer refused (already_answered).
 */
import { ApiError, messageOf, mpApi, type SurveyAnswers, type SurveyQuestion } from '../../utils/api';

interface Row extends SurveyQuestion {
  /** A single choice's or a text's answer. */
  value: string;
  /** A multiple choice's answers. */
  values: string[];
  error: string;
}

const SCORES = [1, 2, 3, 4, 5];

Component({
  data: {
    loading: true,
    error: '',
    id: '',
    eventName: '',
    title: '',
    satisfactionLabel: '',
    answered: false,
    scores: SCORES,
    satisfaction: 0,
    satisfactionError: '',
    rows: [] as Row[],
    submitError: '',
    submitting: false,
  },
  methods: {
    onLoad(query: Record<string, string | undefined>) {
      this.setData({ id: query.id ?? '' });
      return this.load();
    },
    async load() {
      this.setData({ loading: true, error: '' });
      try {
        const survey = await mpApi.survey(this.data.id);
        wx.setNavigationBarTitle({ title: survey.title });
        this.setData({
          loading: false,
          eventName: survey.eventName,
          title: survey.title,
          satisfactionLabel: survey.satisfactionLabel,
          answered: survey.answered,
          rows: survey.questions.map((q) => ({ ...q, value: '', values: [], error: '' })),
        });
      } catch (error) {
        this.setData({ loading: false, error: messageOf(error) });
      }
    },
    rate(e: WechatMiniprogram.TouchEvent) {
      this.setData({ satisfaction: Number(e.currentTarget.dataset.score), satisfactionError: '' });
    },
    rowIndex(e: { currentTarget: { dataset: Record<string, unknown> } }): number {
      return this.data.rows.findIndex((row) => row.key === String(e.currentTarget.dataset.key));
    },
    onSingle(e: WechatMiniprogram.RadioGroupChange) {
      const i = this.rowIndex(e);
      if (i >= 0) this.setData({ [`rows[${i}].value`]: e.detail.value, [`rows[${i}].error`]: '' });
    },
    onMultiple(e: WechatMiniprogram.CheckboxGroupChange) {
      const i = this.rowIndex(e);
      if (i >= 0) this.setData({ [`rows[${i}].values`]: e.detail.value, [`rows[${i}].error`]: '' });
    },
    onText(e: WechatMiniprogram.Input) {
      const i = this.rowIndex(e);
      if (i >= 0) this.setData({ [`rows[${i}].value`]: e.detail.value, [`rows[${i}].error`]: '' });
    },
    async submit() {
      if (this.data.submitting) return;
      const answers: SurveyAnswers = { satisfaction: this.data.satisfaction };
      for (const row of this.data.rows) {
        if (row.kind === 'multiple') {
          if (row.values.length > 0) answers[row.key] = row.values;
        } else if (row.value.trim() !== '') answers[row.key] = row.value;
      }
      // The required ones are checked here too, so a forgotten answer is marked without a round trip.
      const rows = this.data.rows.map((row) => ({ ...row, error: row.required && answers[row.key] === undefined ? '请回答此题' : '' }));
      const satisfactionError = this.data.satisfaction === 0 ? '请选择满意度' : '';
      this.setData({ rows, satisfactionError, submitError: '' });
      if (satisfactionError || rows.some((row) => row.error)) return;
      this.setData({ submitting: true });
      try {
        await mpApi.answerSurvey(this.data.id, answers);
        this.setData({ submitting: false, answered: true });
      } catch (error) {
        if (error instanceof ApiError && error.code === 'already_answered') {
          this.setData({ submitting: false, answered: true });
          return;
        }
        const fields = error instanceof ApiError && error.code === 'validation_failed' ? error.details?.fields : undefined;
        const messages = typeof fields === 'object' && fields !== null ? (fields as Record<string, unknown>) : {};
        const text = (key: string) => (typeof messages[key] === 'string' ? String(messages[key]) : '');
        this.setData({
          submitting: false,
          submitError: messageOf(error),
          satisfactionError: text('satisfaction'),
          rows: this.data.rows.map((row) => ({ ...row, error: text(row.key) })),
        });
      }
    },
  },
});
