/**
 * The mini-program pages an exhibition's subscribe message opens (its `page`: "点击模板卡片后的跳转
 * 页面，仅限本小程序内的页面。支持带参数", subscribeMessage.send). Each is a page miniprogram/app.json
 * lists (a test holds them to it), kept here so that a page renamed there is renamed once here.
 */
export const MP_PAGES = {
  /** 活动详情: the reminder, and a recap without a page of its own. */
  event: (eventId: number): string => `pages/events/detail?id=${eventId}`,
  /** 我的门票: a waitlisted registration promoted to a ticket. */
  tickets: (): string => 'pages/tickets/index',
  /** 云展厅: the recap for those who did not come. */
  cloud: (eventId: number): string => `pages/events/cloud?id=${eventId}`,
  /** 满意度调查: the survey invitation (the page finds the registration by the session's contact). */
  survey: (eventId: number): string => `pages/events/survey?id=${eventId}`,
} as const;
