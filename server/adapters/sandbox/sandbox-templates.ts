/**
 * The sandbox Official Account's private template library, as get_all_private_template lists it
 * (template_list: template_id, title, primary_industry, deputy_industry, content, example).
 * Category templates (类目模板) since 2023: no `first`/`remark`, values follow the subscribe-message
 * field rules (thing ≤ 20 characters, time, amount ...). The journeys' `reactivation` template sends
 * `SANDBOX_TEMPLATES[0]`, so a journey made from it runs in sandbox mode without editing. The
 * outbox sender's sandbox answers get_all_private_template from this list.
 */
export interface SandboxTemplate {
  template_id: string;
  title: string;
  primary_industry: string;
  deputy_industry: string;
  content: string;
  example: string;
}

export const SANDBOX_TEMPLATES: readonly SandboxTemplate[] = [
  {
    template_id: 'sbx_tpl_coupon_issued_0001',
    title: '优惠券到账提醒',
    primary_industry: 'IT科技',
    deputy_industry: '互联网|电子商务',
    content: '优惠券名称{{thing1.DATA}}\n优惠金额{{amount2.DATA}}\n有效期至{{time3.DATA}}\n温馨提示{{thing4.DATA}}',
    example: '优惠券名称：老朋友回归礼\n优惠金额：20元\n有效期至：2026年12月31日\n温馨提示：点击查看详情',
  },
  {
    template_id: 'sbx_tpl_event_reminder_0002',
    title: '活动开始提醒',
    primary_industry: 'IT科技',
    deputy_industry: '互联网|电子商务',
    content: '活动名称{{thing1.DATA}}\n开始时间{{time2.DATA}}\n活动地点{{thing3.DATA}}',
    example: '活动名称：年终答谢会\n开始时间：2026年12月20日 14:00\n活动地点：上海国际会展中心',
  },
];
