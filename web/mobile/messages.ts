/**
 * The public pages' words: zh-CN (the default; the events are in China) with English beside it.
 * A flat catalogue and a twenty-line `t` instead of vue-i18n: these pages have some sixty
 * sentences and a 100 KB first-load budget, and vue-i18n alone would take a fifth of it. Keys and
 * `{name}` placeholders follow web/shared/i18n's conventions, so a sentence can move there later.
 */
import type { FieldProblem, RegistrationField } from '../shared/registration-form';

const zhCN = {
  'app.loading': '加载中…',
  'app.network': '网络不太好，请稍后重试',
  'app.retry': '重试',

  'event.countdown': '距活动开始',
  'event.countdownFormat': 'DD 天 HH 时 mm 分 ss 秒',
  'event.started': '活动进行中',
  'event.time': '时间',
  'event.venue': '地点',
  'event.mapTencent': '腾讯地图',
  'event.mapAmap': '高德地图',
  'event.agenda': '议程',
  'event.benefit': '到场礼遇',
  'event.benefitGift': '签到礼品',
  'event.benefitCoupon': '签到优惠券',
  'event.seats': '已报名 {registered} / {capacity} 人',
  'event.deadline': '报名截止：{time}',
  'event.facts': '活动当天',
  'event.weather': '天气：{text}',
  'event.traffic': '交通：{text}',
  'event.expected': '预计 {count} 人到场',
  'event.fullWaitlist': '名额已满，现在报名将进入候补名单，有空位时按顺序递补。',
  'event.haveTicket': '您已报名本活动',
  'event.openTicket': '查看电子票',
  'event.price': '门票',
  'event.priceValue': '¥{yuan}',

  'form.title': '报名信息',
  'form.placeholder': '请输入{label}',
  'form.smsCode': '短信验证码',
  'form.smsPlaceholder': '6 位数字',
  'form.smsSend': '获取验证码',
  'form.smsSent': '验证码已发送',
  'form.smsWait': '{seconds} 秒后重发',
  'form.consent': '我已阅读并同意主办方按隐私政策收集和使用以上信息，用于本次活动的报名、通知与签到',
  'form.submit': '立即报名',
  'form.submitWaitlist': '加入候补',
  'form.submitPay': '报名并支付 ¥{yuan}',

  'problem.required': '请填写{label}',
  'problem.too_long': '{label}最多{max}个字',
  'problem.phone_invalid': '请填写正确的手机号',
  'problem.email_invalid': '请填写正确的邮箱地址',
  'problem.number_invalid': '{label}须为数字',
  'problem.option_invalid': '请从选项中选择{label}',
  'problem.consent': '请先阅读并勾选同意隐私条款',
  'problem.smsCode': '请输入 6 位短信验证码',

  'error.already_registered': '您已报名过本活动，无需重复报名',
  'error.event_full': '很抱歉，名额已满',
  'error.event_full_waitlisted': '名额已满，您已进入候补名单，排在第 {position} 位',
  'error.registration_closed': '报名已截止',
  'error.validation_failed': '请按提示修改填写的信息',
  'error.consent_required': '请先阅读并勾选同意隐私条款',
  'error.sms_code_invalid': '验证码错误或已过期，请重新获取',
  'error.sms_verification_off': '本活动无需短信验证',
  'error.rate_limited': '操作太频繁，请稍后再试',
  'error.event_not_found': '活动不存在或已下线',
  'error.other': '报名失败，请稍后重试',

  'ticket.title': '电子票',
  'ticket.hint': '签到时请出示此二维码',
  'ticket.status.valid': '有效',
  'ticket.status.revoked': '已取消',
  'ticket.status.checked_in': '已签到',
  'ticket.status.waitlisted': '候补中',
  'ticket.status.unpaid': '待支付',
  'ticket.unpaid': '支付后门票生效；2 小时内未支付，名额将自动释放',
  'ticket.pay': '去支付 ¥{yuan}',
  'ticket.payWaiting': '支付完成，正在确认…',
  'ticket.holder': '参会人',
  'ticket.cancel': '取消报名',
  'ticket.cancelConfirm': '取消后电子票将失效，确定取消报名吗？',
  'ticket.cancelOk': '确定取消',
  'ticket.cancelBack': '再想想',
  'ticket.cancelled': '已取消报名',
  'ticket.notFound': '电子票无效或已失效',
  'ticket.back': '返回活动页',
  'ticket.waitlisted': '您在候补名单中，有空位时将按报名顺序为您递补',

  'status.not_found': '活动不存在',
  'status.not_found_hint': '链接可能有误，或活动已被下线',
  'status.closed': '报名已截止',
  'status.closed_hint': '感谢关注，本活动已停止报名',
  'status.ended': '活动已结束',
  'status.ended_hint': '感谢关注，期待下次与您相见',
  'status.full': '名额已满',
  'status.full_hint': '本活动报名人数已满',

  'offer.title': '限时体验',
  'offer.price': '¥{yuan}',
  'offer.once': '每人限购一次',
  'offer.pay': '立即支付',
  'offer.paying': '正在支付…',
  'offer.waiting': '支付完成，正在确认…',
  'offer.paid': '支付成功',
  'offer.paidHint': '感谢购买，订单已确认',
  'offer.cancelled': '您已取消支付',
  'offer.failed': '支付没有完成，请重试',
  'offer.pending': '支付结果确认中，请稍后刷新查看，请勿重复支付',
  'offer.openInWechat': '请在微信中打开本页面完成支付',
  'offer.notFound': '该优惠不存在或已结束',
  'error.wechat_required': '请在微信中打开本页面完成支付',
  'error.already_purchased': '该优惠每人限购一次，您已购买过',
  'error.product_not_found': '该优惠不存在或已结束',
  'error.pay_not_configured': '暂不支持在线支付',
  'error.pay_order_failed': '暂时无法发起支付，请稍后重试',

  'cloud.title': '云展厅',
  'cloud.enter': '进入云展厅',
  'cloud.enterHint': '没能到场？在线查看资料、产品和案例',
  'cloud.materials': '资料',
  'cloud.products': '产品',
  'cloud.cases': '案例',
  'cloud.empty': '内容正在准备中，敬请期待',
  'cloud.kind.article': '图文',
  'cloud.kind.image': '图片',
  'cloud.kind.video': '视频',
  'cloud.kind.pdf': 'PDF',
  'cloud.consult': '在线咨询',
  'cloud.consultHint': '留下您的问题，专属顾问会尽快联系您',
  'cloud.message': '咨询内容',
  'cloud.messagePlaceholder': '请描述您想了解的产品或问题',
  'cloud.phone': '手机号',
  'cloud.name': '称呼',
  'cloud.optional': '选填',
  'cloud.send': '提交咨询',
  'cloud.sent': '已收到您的咨询，顾问会尽快与您联系',
  'cloud.again': '继续咨询',
  'cloud.back': '返回活动页',
  'problem.message': '请填写咨询内容',
  'survey.title': '满意度调查',
  'survey.required': '必答',
  'survey.textPlaceholder': '请输入（最多 500 字）',
  'survey.submit': '提交',
  'survey.thanks': '感谢您的反馈！',
  'survey.thanksHint': '您的意见将帮助我们把活动办得更好',
  'survey.invalid': '问卷链接无效或已失效',
  'survey.chooseRating': '请为满意度打分',
  'survey.answerRequired': '请回答此题',
  'survey.ratingHint.1': '非常不满意',
  'survey.ratingHint.2': '不满意',
  'survey.ratingHint.3': '一般',
  'survey.ratingHint.4': '满意',
  'survey.ratingHint.5': '非常满意',
  'survey.error': '提交失败，请稍后重试',
};

export type MessageKey = keyof typeof zhCN;
export type Messages = Record<MessageKey, string>;

const en: Messages = {
  'app.loading': 'Loading…',
  'app.network': 'The network is slow, please try again',
  'app.retry': 'Retry',

  'event.countdown': 'Starts in',
  'event.countdownFormat': 'DDd HH:mm:ss',
  'event.started': 'Happening now',
  'event.time': 'When',
  'event.venue': 'Where',
  'event.mapTencent': 'Tencent Maps',
  'event.mapAmap': 'AMap',
  'event.agenda': 'Agenda',
  'event.benefit': 'On arrival',
  'event.benefitGift': 'Check-in gift',
  'event.benefitCoupon': 'Check-in coupon',
  'event.seats': '{registered} of {capacity} registered',
  'event.deadline': 'Registration closes {time}',
  'event.facts': 'On the day',
  'event.weather': 'Weather: {text}',
  'event.traffic': 'Getting there: {text}',
  'event.expected': 'About {count} people expected',
  'event.fullWaitlist': 'The event is full: registering now puts you on the waiting list.',
  'event.haveTicket': 'You are registered',
  'event.openTicket': 'Open my ticket',
  'event.price': 'Ticket',
  'event.priceValue': '¥{yuan}',

  'form.title': 'Registration',
  'form.placeholder': 'Enter {label}',
  'form.smsCode': 'SMS code',
  'form.smsPlaceholder': '6 digits',
  'form.smsSend': 'Send code',
  'form.smsSent': 'Code sent',
  'form.smsWait': 'Resend in {seconds}s',
  'form.consent': 'I agree that the organiser uses this information for registration, notices and check-in, as its privacy policy says',
  'form.submit': 'Register',
  'form.submitWaitlist': 'Join the waiting list',
  'form.submitPay': 'Register and pay ¥{yuan}',

  'problem.required': 'Please fill in {label}',
  'problem.too_long': '{label}: at most {max} characters',
  'problem.phone_invalid': 'Enter an 11-digit mobile number',
  'problem.email_invalid': 'Enter a valid e-mail address',
  'problem.number_invalid': '{label}: enter a number',
  'problem.option_invalid': 'Choose {label} from the list',
  'problem.consent': 'Please agree to the privacy terms first',
  'problem.smsCode': 'Enter the 6-digit SMS code',

  'error.already_registered': 'You have already registered for this event',
  'error.event_full': 'Sorry, the event is full',
  'error.event_full_waitlisted': 'The event is full: you are number {position} on the waiting list',
  'error.registration_closed': 'Registration has closed',
  'error.validation_failed': 'Please correct the marked answers',
  'error.consent_required': 'Please agree to the privacy terms first',
  'error.sms_code_invalid': 'The code is wrong or expired: request a new one',
  'error.sms_verification_off': 'This event needs no SMS code',
  'error.rate_limited': 'Too many attempts, please try again later',
  'error.event_not_found': 'This event does not exist',
  'error.other': 'Registration failed, please try again',

  'ticket.title': 'Ticket',
  'ticket.hint': 'Show this code at check-in',
  'ticket.status.valid': 'Valid',
  'ticket.status.revoked': 'Cancelled',
  'ticket.status.checked_in': 'Checked in',
  'ticket.status.waitlisted': 'Waiting list',
  'ticket.status.unpaid': 'Awaiting payment',
  'ticket.unpaid': 'The ticket is valid once paid; unpaid for 2 hours, the seat is released',
  'ticket.pay': 'Pay ¥{yuan}',
  'ticket.payWaiting': 'Paid, confirming…',
  'ticket.holder': 'Attendee',
  'ticket.cancel': 'Cancel registration',
  'ticket.cancelConfirm': 'Your ticket stops working. Cancel your registration?',
  'ticket.cancelOk': 'Cancel it',
  'ticket.cancelBack': 'Keep it',
  'ticket.cancelled': 'Registration cancelled',
  'ticket.notFound': 'This ticket is not valid',
  'ticket.back': 'Back to the event',
  'ticket.waitlisted': 'You are on the waiting list: seats that free up go to it in order',

  'status.not_found': 'Event not found',
  'status.not_found_hint': 'The link may be wrong, or the event was taken down',
  'status.closed': 'Registration closed',
  'status.closed_hint': 'Thank you for your interest: registration has closed',
  'status.ended': 'The event has ended',
  'status.ended_hint': 'Thank you for your interest: see you next time',
  'status.full': 'Fully booked',
  'status.full_hint': 'Every seat of this event is taken',
  'offer.title': 'Limited offer',
  'offer.price': '¥{yuan}',
  'offer.once': 'Once per person',
  'offer.pay': 'Pay now',
  'offer.paying': 'Paying…',
  'offer.waiting': 'Paid, confirming…',
  'offer.paid': 'Payment received',
  'offer.paidHint': 'Thank you: your order is confirmed',
  'offer.cancelled': 'You cancelled the payment',
  'offer.failed': 'The payment did not go through, please try again',
  'offer.pending': 'Confirming the payment: refresh in a moment, and do not pay again',
  'offer.openInWechat': 'Open this page in WeChat to pay',
  'offer.notFound': 'This offer does not exist or has ended',
  'error.wechat_required': 'Open this page in WeChat to pay',
  'error.already_purchased': 'This offer is once per person, and you have bought it already',
  'error.product_not_found': 'This offer does not exist or has ended',
  'error.pay_not_configured': 'Online payment is not available yet',
  'error.pay_order_failed': 'The payment could not be started, please try again later',

  'cloud.title': 'Cloud exhibition',
  'cloud.enter': 'Visit the cloud exhibition',
  'cloud.enterHint': 'Could not come? See the materials, products and cases online',
  'cloud.materials': 'Materials',
  'cloud.products': 'Products',
  'cloud.cases': 'Cases',
  'cloud.empty': 'Coming soon',
  'cloud.kind.article': 'Article',
  'cloud.kind.image': 'Image',
  'cloud.kind.video': 'Video',
  'cloud.kind.pdf': 'PDF',
  'cloud.consult': 'Ask us',
  'cloud.consultHint': 'Leave your question and your consultant will contact you soon',
  'cloud.message': 'Your question',
  'cloud.messagePlaceholder': 'Which product or question is it about?',
  'cloud.phone': 'Mobile',
  'cloud.name': 'Name',
  'cloud.optional': 'optional',
  'cloud.send': 'Send',
  'cloud.sent': 'Thank you: your consultant will contact you soon',
  'cloud.again': 'Ask something else',
  'cloud.back': 'Back to the event',
  'problem.message': 'Please write your question',
  'survey.title': 'Satisfaction survey',
  'survey.required': 'Required',
  'survey.textPlaceholder': 'Type here (500 characters at most)',
  'survey.submit': 'Submit',
  'survey.thanks': 'Thank you for your feedback!',
  'survey.thanksHint': 'Your answers help us make the next event better',
  'survey.invalid': 'This survey link is not valid',
  'survey.chooseRating': 'Please rate your satisfaction',
  'survey.answerRequired': 'Please answer this question',
  'survey.ratingHint.1': 'Very dissatisfied',
  'survey.ratingHint.2': 'Dissatisfied',
  'survey.ratingHint.3': 'Neutral',
  'survey.ratingHint.4': 'Satisfied',
  'survey.ratingHint.5': 'Very satisfied',
  'survey.error': 'Could not submit, please try again',
};

export const CATALOGUES = { 'zh-CN': zhCN, en } as const;
export type Locale = keyof typeof CATALOGUES;

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

/** A translator over one catalogue: `{name}` is replaced by params.name; an unknown name stays as written. */
export function translatorFor(locale: Locale): Translate {
  const catalogue: Messages = CATALOGUES[locale];
  return (key, params) =>
    catalogue[key].replace(/\{(\w+)\}/g, (whole, name: string) => (params && name in params ? String(params[name]) : whole));
}

/**
 * zh-CN unless the link asks for English (`?lang=en`) or the browser's first language is English:
 * the visitor, not an operator, chooses here, and has no menu to do it with.
 */
export function localeOf(search: string, languages: readonly string[]): Locale {
  const asked = new URLSearchParams(search).get('lang');
  if (asked === 'en' || asked === 'zh-CN') return asked;
  return languages[0]?.toLowerCase().startsWith('en') ? 'en' : 'zh-CN';
}

/** The sentence under a field the page refused: in Chinese, the server's own words for the same problem. */
export function fieldProblemMessage(field: RegistrationField, problem: FieldProblem, t: Translate): string {
  switch (problem.code) {
    case 'required':
      return t('problem.required', { label: field.label });
    case 'too_long':
      return t('problem.too_long', { label: field.label, max: problem.max });
    case 'phone_invalid':
    case 'email_invalid':
    case 'number_invalid':
    case 'option_invalid':
      return t(`problem.${problem.code}`, { label: field.label });
  }
}

/** The API's refusal codes the page has a sentence for (EVENTS-CONTRACT: the public registration API). */
const KNOWN_ERRORS = new Set([
  'already_registered',
  'event_full',
  'registration_closed',
  'validation_failed',
  'consent_required',
  'sms_code_invalid',
  'sms_verification_off',
  'rate_limited',
  'event_not_found',
  'wechat_required',
  'already_purchased',
  'product_not_found',
  'pay_not_configured',
  'pay_order_failed',
]);

/** The sentence for an API refusal; a waitlisted `event_full` names the position. */
export function apiErrorMessage(code: string, details: unknown, t: Translate): string {
  if (code === 'event_full' && typeof details === 'object' && details !== null && 'position' in details) {
    const { position } = details;
    if (typeof position === 'number') return t('error.event_full_waitlisted', { position });
  }
  return KNOWN_ERRORS.has(code) ? t(`error.${code}` as MessageKey) : t('error.other');
}
