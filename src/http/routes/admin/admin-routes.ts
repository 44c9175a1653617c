import type { FastifyInstance } from 'fastify';
import type { Services } from '../../../core/imagine-services.ts';
import { createAdminAuthenticator } from './admin-auth.ts';
import { adminManageRoutes } from './admin-manage-routes.ts';
import { adminReportRoutes } from './admin-report-routes.ts';

/**
 * `/api/v1/admin/…`: the operator's API, for admin API keys and the console's session cookie. A plugin of
 * its own, beside the app API, so its own check (admin, CSRF) runs instead of the app's.
 */
export function adminRoutes(services: Services) {
  const authenticate = createAdminAuthenticator(services);
  return async (app: FastifyInstance) => {
    app.decorateRequest('adminActor');
    app.addHook('onRequest', async (request) => {
      request.adminActor = await authenticate(request);
    });
    await app.register(adminReportRoutes, { admin: services.admin, now: () => new Date() });
    await app.register(adminManageRoutes, { admin: services.admin, apiKeys: services.apiKeys });
  };
}
