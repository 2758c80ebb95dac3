import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import { onAuthError } from '@shared/api';
import type { Role } from '@shared/types';
import { loadScreenMessages } from '@shared/i18n';
import { homeOf, refreshSession, session } from './session';

declare module 'vue-router' {
  interface RouteMeta {
    /** Who may open the page; the menu shows only these (the API enforces the same). */
    roles?: Role[];
    /** The menu label's i18n key. */
    menu?: string;
    /** Only when the server runs the sandbox platform. */
    sandboxOnly?: boolean;
    public?: boolean;
  }
}

const EDITORS: Role[] = ['admin', 'operator'];
const EVERYONE: Role[] = ['admin', 'operator', 'sales'];
const ADMINS: Role[] = ['admin'];

/** The shell's pages, in menu order; each is its own chunk. */
export const shellRoutes: RouteRecordRaw[] = [
  {
    path: 'dashboard',
    name: 'dashboard',
    component: () => import('./views/DashboardView.vue'),
    meta: { roles: EDITORS, menu: 'menu.dashboard' },
  },
  {
    path: 'contacts',
    name: 'contacts',
    component: () => import('./views/ContactsView.vue'),
    meta: { roles: EVERYONE, menu: 'menu.contacts' },
  },
  { path: 'contacts/:id(\\d+)', name: 'contact', component: () => import('./views/ContactView.vue'), meta: { roles: EVERYONE } },
  { path: 'tags', name: 'tags', component: () => import('./views/TagsView.vue'), meta: { roles: EDITORS, menu: 'menu.tags' } },
  { path: 'rules', name: 'rules', component: () => import('./views/RulesView.vue'), meta: { roles: EDITORS, menu: 'menu.rules' } },
  { path: 'scoring', name: 'scoring', component: () => import('./views/ScoringView.vue'), meta: { roles: EDITORS, menu: 'scoring.menu' } },
  {
    path: 'segments',
    name: 'segments',
    component: () => import('./views/SegmentsView.vue'),
    // A sales rep's menu is their customers alone; the segments API still lets them read (and page
    // the members they follow) for a screen of theirs to come.
    meta: { roles: EDITORS, menu: 'segments.menu' },
  },
  {
    path: 'channels',
    name: 'channels',
    component: () => import('./views/ChannelsView.vue'),
    meta: { roles: EDITORS, menu: 'channelsPage.menu' },
  },
  {
    path: 'events',
    name: 'events',
    component: () => import('./views/EventsView.vue'),
    meta: { roles: EDITORS, menu: 'eventsPage.menu' },
  },
  // Staff at a gate open the scanner tab on a phone (?tab=scan): operators, not sales reps.
  { path: 'events/:id(\\d+)', name: 'event', component: () => import('./views/EventView.vue'), meta: { roles: EDITORS } },
  {
    path: 'content',
    name: 'content',
    component: () => import('./views/ContentCentreView.vue'),
    meta: { roles: EDITORS, menu: 'contentPage.menu' },
  },
  // 名片 (issue 17 §1): a sales rep edits their own card and reads its visitors; admins and
  // marketers pick any rep (the API enforces the same).
  { path: 'cards', name: 'cards', component: () => import('./views/CardsView.vue'), meta: { roles: EVERYONE, menu: 'cardsPage.menu' } },
  {
    path: 'journeys',
    name: 'journeys',
    component: () => import('./views/JourneysView.vue'),
    meta: { roles: EDITORS, menu: 'journeysPage.menu' },
  },
  // The graph (@vue-flow/core) is only in this chunk: the list and the rest of the page never load it.
  { path: 'journeys/:id(\\d+)', name: 'journey', component: () => import('./views/JourneyView.vue'), meta: { roles: EDITORS } },
  {
    path: 'broadcasts',
    name: 'broadcasts',
    component: () => import('./views/BroadcastsView.vue'),
    meta: { roles: EDITORS, menu: 'broadcastsPage.menu' },
  },
  {
    path: 'templates',
    name: 'templates',
    component: () => import('./views/TemplatesView.vue'),
    meta: { roles: EDITORS, menu: 'templatesPage.menu' },
  },
  {
    path: 'delivery-settings',
    name: 'delivery-settings',
    component: () => import('./views/DeliverySettingsView.vue'),
    meta: { roles: EDITORS, menu: 'deliverySettings.menu' },
  },
  {
    path: 'failed-work',
    name: 'failed-work',
    component: () => import('./views/FailedWorkView.vue'),
    meta: { roles: EDITORS, menu: 'menu.failedWork' },
  },
  // 订单 (WeChat Pay): everyone who reads customers reads orders; refunds are admins' (the API checks).
  { path: 'orders', name: 'orders', component: () => import('./views/OrdersView.vue'), meta: { roles: EDITORS, menu: 'ordersPage.menu' } },
  { path: 'setup', name: 'setup', component: () => import('./views/SetupView.vue'), meta: { roles: ADMINS, menu: 'menu.setup' } },
  {
    path: 'sandbox',
    name: 'sandbox',
    component: () => import('./views/SandboxView.vue'),
    meta: { roles: EDITORS, menu: 'menu.sandbox', sandboxOnly: true },
  },
  {
    path: 'operators',
    name: 'operators',
    component: () => import('./views/OperatorsView.vue'),
    meta: { roles: ADMINS, menu: 'menu.operators' },
  },
  { path: 'audit', name: 'audit', component: () => import('./views/AuditView.vue'), meta: { roles: ADMINS, menu: 'menu.audit' } },
];

export const router = createRouter({
  history: createWebHistory('/admin/'),
  routes: [
    { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
    { path: '/password', name: 'password', component: () => import('./views/PasswordView.vue') },
    {
      path: '/',
      component: () => import('./views/ShellView.vue'),
      children: [{ path: '', name: 'home', component: { render: () => null } }, ...shellRoutes],
    },
    { path: '/:rest(.*)*', redirect: '/' },
  ],
});

export function allowed(meta: { roles?: Role[]; sandboxOnly?: boolean }, role: Role): boolean {
  if (meta.roles && !meta.roles.includes(role)) return false;
  return !meta.sandboxOnly || session.config.sandbox;
}

router.beforeEach(async (to) => {
  if (!session.loaded) await refreshSession().catch(() => (session.loaded = true));
  if (to.meta.public) return true;
  const me = session.me;
  if (!me) return { name: 'login', query: to.name === 'home' ? {} : { redirect: to.fullPath } };
  // The menu and the signed-in screens read them; should the chunk fail, the page still opens.
  await loadScreenMessages().catch(() => undefined);
  if (me.mustChangePassword) return to.name === 'password' ? true : { name: 'password', query: { redirect: to.fullPath } };
  // The landing page depends on the role, known only once the session is read.
  if (to.name === 'password' || to.name === 'home') return homeOf(me.role);
  for (const record of to.matched) if (!allowed(record.meta, me.role)) return homeOf(me.role);
  return true;
});

// A session that expires while the page is open goes back to the login page, and returns here after.
onAuthError((error) => {
  const current = router.currentRoute.value;
  if (error.code === 'password_change_required') {
    if (session.me) session.me.mustChangePassword = true;
    void router.push({ name: 'password', query: { redirect: current.fullPath } });
    return;
  }
  if (current.name === 'login') return;
  session.me = null;
  void router.push({ name: 'login', query: { redirect: current.fullPath } });
});
