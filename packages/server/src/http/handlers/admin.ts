// The admin API (role `admin`).
import { Type, type Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import type { LatchkeyServices } from '../../latchkey.js';
import type { AuditEvent, AuditEventType } from '../../core/model.js';
import { ProblemError } from '../../core/errors.js';
import { isValidEmail, normalizeEmail } from '../../core/email.js';
import { isSessionLive } from '../../core/sessions.js';
import { decodeCursor, encodeCursor, parseLimit } from '../paging.js';
import { requirePrincipal, type RouteHandler } from '../route-types.js';
import { isoTime, requestContext, serializeSession, serializeUser } from '../serialize.js';

const UsersQuery = Type.Object(
  {
    email: Type.Optional(Type.String({ maxLength: 320 })),
    limit: Type.Optional(Type.String()),
    cursor: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export function listUsers(services: Pick<LatchkeyServices, 'storage'>): RouteHandler {
  return {
    schema: { querystring: UsersQuery },
    async handle({ request }) {
      const query = request.query as Static<typeof UsersQuery>;
      const limit = parseLimit(query.limit);
      const after = decodeCursor(query.cursor, 'string');
      const email = query.email === undefined ? undefined : normalizeEmail(query.email);
      if (email !== undefined && !isValidEmail(email)) {
        throw new ProblemError('validation_failed', 'email is not a valid address');
      }
      // One extra row tells whether another page exists.
      const rows = await services.storage.listUsers({
        limit: limit + 1,
        ...(email !== undefined ? { email } : {}),
        ...(after !== undefined ? { after } : {}),
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        users: page.map(serializeUser),
        nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null,
      };
    },
  };
}

const AUDIT_TYPES: readonly AuditEventType[] = [
  'signup',
  'login_succeeded',
  'login_failed',
  'session_revoked',
  'token_refreshed',
  'refresh_token_reused',
  'password_changed',
  'user_banned',
  'user_unbanned',
  'suspicious_activity',
  'key_rotated',
];

const AuditQuery = Type.Object(
  {
    userId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    type: Type.Optional(Type.Union(AUDIT_TYPES.map((t) => Type.Literal(t)))),
    limit: Type.Optional(Type.String()),
    cursor: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export function serializeAuditEvent(event: AuditEvent) {
  return {
    id: String(event.id),
    type: event.type,
    at: isoTime(event.at),
    userId: event.userId,
    sessionId: event.sessionId,
    clientId: event.clientId,
    ip: event.ip,
    userAgent: event.userAgent,
    detail: event.detail,
  };
}

/** One page of audit events, newest first, for the admin log and a user's own activity. */
export async function readAuditPage(
  services: Pick<LatchkeyServices, 'storage'>,
  filter: { userId?: string; type?: AuditEventType },
  paging: { limit?: string; cursor?: string },
) {
  const limit = parseLimit(paging.limit);
  const before = decodeCursor(paging.cursor, 'number');
  const rows = await services.storage.listAudit({
    ...filter,
    limit: limit + 1,
    ...(before !== undefined ? { before } : {}),
  });
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return {
    events: page.map(serializeAuditEvent),
    nextCursor: rows.length > limit && last ? encodeCursor(last.id) : null,
  };
}

export function listAudit(services: Pick<LatchkeyServices, 'storage'>): RouteHandler {
  return {
    schema: { querystring: AuditQuery },
    handle({ request }) {
      const { userId, type, ...paging } = request.query as Static<typeof AuditQuery>;
      return readAuditPage(
        services,
        { ...(userId !== undefined ? { userId } : {}), ...(type !== undefined ? { type } : {}) },
        paging,
      );
    },
  };
}

const UserParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) });

/** The ID of the user a route's `:id` names, or a 404. */
async function targetUserId(
  services: Pick<LatchkeyServices, 'accounts'>,
  request: FastifyRequest,
): Promise<string> {
  const { id } = request.params as Static<typeof UserParams>;
  if (!(await services.accounts.findUser(id))) throw new ProblemError('not_found', 'no such user');
  return id;
}

export function listUserSessions(
  services: Pick<LatchkeyServices, 'accounts' | 'sessions'>,
): RouteHandler {
  return {
    schema: { params: UserParams },
    async handle({ request }) {
      const sessions = await services.sessions.list(await targetUserId(services, request));
      return { sessions: sessions.map((s) => serializeSession(s, null)) };
    },
  };
}

export function revokeAnySession(
  services: Pick<LatchkeyServices, 'sessions' | 'revoker' | 'clock'>,
): RouteHandler {
  return {
    schema: { params: UserParams },
    async handle(ctx) {
      const { id } = ctx.request.params as Static<typeof UserParams>;
      const session = await services.sessions.find(id);
      if (!session || !isSessionLive(session, services.clock.now())) {
        throw new ProblemError('not_found', 'no such session');
      }
      await services.revoker.revokeSessions([id], 'admin_revoked', {
        userId: requirePrincipal(ctx).user.id,
        context: requestContext(ctx.request),
      });
      return ctx.reply.code(204).send();
    },
  };
}

/**
 * Ban ends every session and refresh family and moves the user epoch, so every outstanding access
 * token fails at once; logins are then refused exactly like wrong credentials.
 */
export function banUser(
  services: Pick<LatchkeyServices, 'accounts' | 'sessions' | 'revoker' | 'audit'>,
): RouteHandler {
  return {
    schema: { params: UserParams },
    async handle(ctx) {
      const id = await targetUserId(services, ctx.request);
      const admin = requirePrincipal(ctx).user;
      const context = requestContext(ctx.request);
      // Status first: the epoch event then tells every instance to re-read a banned user.
      await services.accounts.setStatus(id, 'banned', null);
      await services.revoker.moveUserEpoch(id);
      const sessions = (await services.sessions.list(id)).map((s) => s.id);
      await services.revoker.revokeSessions(sessions, 'user_banned', { userId: id, context });
      await services.audit.record('user_banned', { userId: id, context, detail: { by: admin.id } });
      return ctx.reply.code(204).send();
    },
  };
}

export function unbanUser(services: Pick<LatchkeyServices, 'accounts' | 'audit'>): RouteHandler {
  return {
    schema: { params: UserParams },
    async handle(ctx) {
      const id = await targetUserId(services, ctx.request);
      const admin = requirePrincipal(ctx).user;
      await services.accounts.setStatus(id, 'active', null);
      await services.audit.record('user_unbanned', {
        userId: id,
        context: requestContext(ctx.request),
        detail: { by: admin.id },
      });
      return ctx.reply.code(204).send();
    },
  };
}
