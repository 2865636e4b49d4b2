// Public shapes of domain records. Nothing secret ever passes through here.
import type { Session, User } from '../core/model.js';

const formatted = new Map<number, string>();
const MAX_FORMATTED = 4096;

/**
 * RFC 3339 UTC time of epoch milliseconds. Remembered, because V8's toISOString formats through
 * printf and the same few instants (a user's creation, a token's expiry) answer request after
 * request.
 */
export function isoTime(ms: number): string {
  let text = formatted.get(ms);
  if (text === undefined) {
    text = new Date(ms).toISOString();
    if (formatted.size >= MAX_FORMATTED) formatted.clear();
    formatted.set(ms, text);
  }
  return text;
}

export function serializeUser(user: User) {
  return {
    id: user.id,
    email: user.email,
    roles: [...user.roles],
    status: user.status,
    createdAt: isoTime(user.createdAt),
  };
}

export function serializeSession(session: Session, currentSessionId: string | null) {
  return {
    id: session.id,
    clientId: session.clientId,
    strategy: session.strategy,
    createdAt: isoTime(session.createdAt),
    lastSeenAt: isoTime(session.lastSeenAt),
    expiresAt: isoTime(Math.min(session.idleExpiresAt, session.expiresAt)),
    ip: session.ip,
    userAgent: session.userAgent,
    current: session.id === currentSessionId,
  };
}

const MAX_USER_AGENT = 512;

export function requestContext(request: {
  ip: string;
  headers: Record<string, string | string[] | undefined>;
}) {
  const agent = request.headers['user-agent'];
  return {
    ip: request.ip || null,
    userAgent: typeof agent === 'string' ? agent.slice(0, MAX_USER_AGENT) : null,
  };
}
