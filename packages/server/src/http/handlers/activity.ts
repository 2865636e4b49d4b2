// A user's own security events: new logins, failed attempts, revocations, password changes and
// suspicious activity, so people can notice what they did not do.
import { Type, type Static } from '@sinclair/typebox';
import type { LatchkeyServices } from '../../latchkey.js';
import { requirePrincipal, type RouteHandler } from '../route-types.js';
import { readAuditPage } from './admin.js';

const ActivityQuery = Type.Object(
  { limit: Type.Optional(Type.String()), cursor: Type.Optional(Type.String()) },
  { additionalProperties: false },
);

export function myActivity(services: Pick<LatchkeyServices, 'storage'>): RouteHandler {
  return {
    schema: { querystring: ActivityQuery },
    handle(ctx) {
      const principal = requirePrincipal(ctx);
      const paging = ctx.request.query as Static<typeof ActivityQuery>;
      return readAuditPage(services, { userId: principal.user.id }, paging);
    },
  };
}
