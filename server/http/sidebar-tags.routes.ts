import Router from '@koa/router';
import type { TagCatalogService } from '../modules/tags/tag-catalog.service';
import type { AdminState, AuthMiddleware } from './auth.middleware';

export interface SidebarTagsRouterDeps {
  tagCatalog: Pick<TagCatalogService, 'listTags'>;
  auth: AuthMiddleware;
}

/**
 * `GET /api/sidebar/tags`: the tags a rep may put on a customer from the sidebar's picker. The
 * admin's list (/api/admin/tags) is for the roles that edit the catalogue; a sales rep reads only
 * the names here, without the counts and sync states the tags screen shows.
 */
export function createSidebarTagsRouter(deps: SidebarTagsRouterDeps): Router<AdminState> {
  const router = new Router<AdminState>();
  router.get('/api/sidebar/tags', deps.auth.requireOperator(), async (ctx) => {
    const tags = await deps.tagCatalog.listTags();
    ctx.body = { items: tags.map((tag) => ({ id: tag.id, group: tag.group, name: tag.name })) };
  });
  return router;
}
