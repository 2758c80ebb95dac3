/**
 * 活动报名: the event's own form (its `fields`), checked before posting (utils/form.ts), the privacy
 * consent, then POST /api/mp/events/:id/registrations. Reminder consent: wx.requestSubscribeMessage
 * only works inside the tap's own handler (WeChat refuses it after an await: "can only be invoked by
 * user TAP gesture"), so the submit tap asks first and registers in its callback; the answers are
 * then recorded with POST /api/mp/subscribe-consent for the reminder sends. Which templates to ask
 * for is the server's (GET /api/mp/config, the reminder's template): none configured, none asked.
 *
 * A paid event: the registration comes back unpaid with its order, paid with wx.requestPayment
 * (utils/pay.ts), and the tickets open once the server has WeChat Pay's notification. A cancelled
 * or failed payment leaves the registration unpaid: the page offers 去支付 (the same order again).
 */
import { ApiError, messageOf, mpApi, reportKey, type Payment, type RegistrationField, type SubscribeResult } from '../../utils/api';
import { channelIdFor } from '../../utils/channel';
import { answersToSend, fieldError, formErrors } from '../../utils/form';
import { PAY_TEXT, payAndConfirm, yuanOf } from '../../utils/pay';

/** Whether the page was left (per page instance): a payment being confirmed stops waiting. */
const left = new WeakSet<object>();

interface Row extends RegistrationField {
  value: string;
  error: string;
  inputType: 'text' | 'number' | 'digit';
}

const inputTypeOf = (field: RegistrationField): Row['inputType'] =>
  field.type === 'phone' ? 'number' : field.type === 'number' ? 'digit' : 'text';

Component({
  data: {
    loading: true,
    loadError: '',
    id: '',
    eventName: '',
    subscribeTemplateIds: [] as string[],
    rows: [] as Row[],
    consent: false,
    consentError: '',
    submitError: '',
    submitting: false,
    /** `提交报名` or, for a paid event, `报名并支付 ¥99.00`. */
    submitText: '提交报名',
    /** The unpaid registration whose payment did not go through: 去支付 instead of submitting again. */
    unpaidRegistrationId: 0,
    payStatus: '',
    /** The payment may be on its way (WeChat said ok, the server has not confirmed yet): no second payment. */
    payPending: false,
  },
  lifetimes: {
    detached() {
      left.add(this);
    },
  },
  methods: {
    async onLoad(query: Record<string, string | undefined>) {
      const id = query.id ?? '';
      this.setData({ id });
      try {
        // The reminder consent is optional: without the config the registration still goes ahead, unasked.
        const [event, config] = await Promise.all([mpApi.event(id), mpApi.config().catch(() => ({ subscribeTemplateIds: [] }))]);
        this.setData({
          loading: false,
          eventName: event.name,
          subscribeTemplateIds: config.subscribeTemplateIds,
          submitText: event.ticketPriceFen ? `报名并支付 ${yuanOf(event.ticketPriceFen)}` : '提交报名',
          rows: event.fields.map((field) => ({ ...field, value: '', error: '', inputType: inputTypeOf(field) })),
        });
      } catch (error) {
        this.setData({ loading: false, loadError: messageOf(error) });
      }
    },
    setValue(key: string, value: string) {
      const index = this.data.rows.findIndex((row) => row.key === key);
      if (index < 0) return;
      const row = this.data.rows[index];
      // A field already marked wrong is re-checked as the user types, so the mark leaves when fixed.
      const error = row.error ? fieldError(row, value) : '';
      this.setData({ [`rows[${index}].value`]: value, [`rows[${index}].error`]: error });
    },
    onInput(e: WechatMiniprogram.Input) {
      this.setValue(String(e.currentTarget.dataset.key), e.detail.value);
    },
    onPick(e: WechatMiniprogram.PickerChange) {
      const key = String(e.currentTarget.dataset.key);
      const row = this.data.rows.find((r) => r.key === key);
      const option = row?.options?.[Number(e.detail.value)];
      if (option !== undefined) this.setValue(key, option);
    },
    async onPhone(e: WechatMiniprogram.CustomEvent<{ code?: string; errMsg: string }>) {
      // getPhoneNumber gives a one-time code; the server exchanges it (the number never passes through here in clear from WeChat).
      const code = e.detail.code;
      if (!code) return;
      try {
        const { phone } = await mpApi.phone(code);
        this.setValue(String(e.currentTarget.dataset.key), phone);
      } catch (error) {
        wx.showToast({ title: messageOf(error), icon: 'none' });
      }
    },
    onConsent(e: WechatMiniprogram.CheckboxGroupChange) {
      const consent = e.detail.value.includes('agree');
      this.setData({ consent, consentError: consent ? '' : this.data.consentError });
    },
    onUnload() {
      left.add(this);
    },
    openPrivacy() {
      wx.openPrivacyContract({});
    },
    answers(): Record<string, string> {
      const answers: Record<string, string> = {};
      for (const row of this.data.rows) answers[row.key] = row.value;
      return answers;
    },
    submit() {
      if (this.data.submitting) return;
      const errors = formErrors(this.data.rows, this.answers());
      const consentError = this.data.consent ? '' : '请先阅读并同意隐私政策';
      this.setData({ rows: this.data.rows.map((row) => ({ ...row, error: errors[row.key] ?? '' })), consentError, submitError: '' });
      if (Object.keys(errors).length > 0 || consentError) return;
      this.setData({ submitting: true });
      const tmplIds = this.data.subscribeTemplateIds;
      if (tmplIds.length === 0) {
        void this.send({});
        return;
      }
      wx.requestSubscribeMessage({
        tmplIds,
        success: (res) => {
          // The answer is `{<template id>: 'accept' | 'reject' | 'ban' | 'filter', errMsg}`: keep the templates' only.
          const answers = res as unknown as Record<string, unknown>;
          const result: SubscribeResult = {};
          for (const id of tmplIds) if (typeof answers[id] === 'string') result[id] = answers[id] as string;
          void this.send(result);
        },
        // Refused or unsupported: register all the same, with no reminder consent.
        fail: () => void this.send({}),
      });
    },
    async send(result: SubscribeResult) {
      try {
        const channelId = channelIdFor(this.data.id);
        const registered = await mpApi.register(this.data.id, {
          answers: answersToSend(this.data.rows, this.answers()),
          consent: true,
          ...(channelId === null ? {} : { channelId }),
        });
        if (Object.keys(result).length > 0) {
          // The registration stands whatever happens to the consent report.
          await mpApi.subscribeConsent({ result, reportKey: reportKey() }).catch(() => undefined);
        }
        if (registered.payment) {
          await this.pay(registered.registrationId, registered.payment);
          return;
        }
        this.setData({ submitting: false });
        wx.showToast({ title: '报名成功', icon: 'success' });
        wx.redirectTo({ url: `/pages/tickets/index?registration=${registered.registrationId}` });
      } catch (error) {
        const fields = error instanceof ApiError && error.code === 'validation_failed' ? error.details?.fields : undefined;
        if (fields && typeof fields === 'object') {
          const messages = fields as Record<string, unknown>;
          this.setData({
            rows: this.data.rows.map((row) => ({ ...row, error: typeof messages[row.key] === 'string' ? String(messages[row.key]) : '' })),
          });
        }
        this.setData({ submitting: false, submitError: messageOf(error) });
      }
    },
    /** 去支付 after a payment that did not go through: the same order's parameters again. */
    async payAgain() {
      if (this.data.submitting) return;
      this.setData({ submitting: true, submitError: '' });
      try {
        await this.pay(this.data.unpaidRegistrationId, await mpApi.pay(this.data.id));
      } catch (error) {
        this.setData({ submitting: false, submitError: messageOf(error) });
      }
    },
    async pay(registrationId: number, payment: Payment) {
      this.setData({ submitting: true, unpaidRegistrationId: registrationId, payStatus: '' });
      const outcome = await payAndConfirm(
        { registrationId, payParams: payment.payParams },
        { onConfirming: () => this.setData({ payStatus: PAY_TEXT.confirming }), stopped: () => left.has(this) },
      );
      if (outcome === 'paid') {
        this.setData({ submitting: false, payStatus: '' });
        wx.showToast({ title: '支付成功', icon: 'success' });
        wx.redirectTo({ url: `/pages/tickets/index?registration=${registrationId}` });
        return;
      }
      this.setData({
        submitting: false,
        payStatus: '',
        submitError: PAY_TEXT[outcome],
        payPending: outcome === 'pending',
        // Released: nothing is left to pay, a new registration is needed.
        unpaidRegistrationId: outcome === 'closed' ? 0 : registrationId,
      });
    },
    openTickets() {
      wx.redirectTo({ url: '/pages/tickets/index' });
    },
  },
});
