// Helpers for the risk tests: requests from a given device (address and user agent), over the
// token endpoint and the cookie session, and the suspicious_activity events they leave.
import type { LightMyRequestResponse } from 'fastify';
import type { AuditEvent } from '../../src/core/model.js';
import { PASSWORD, json, type TestServer } from './harness.js';

export const AGENTS = {
  chromeWindows:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
  chromeWindowsNext:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36',
  firefoxLinux: 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  safariIphone:
    'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
  curl: 'curl/8.5.0',
} as const;

export interface Device {
  readonly ip: string;
  readonly userAgent: string;
}

export const device = (ip: string, userAgent: string = AGENTS.chromeWindows): Device => ({
  ip,
  userAgent,
});

export function tokenLogin(
  server: TestServer,
  email: string,
  from: Device,
  clientId = 'app',
): Promise<LightMyRequestResponse> {
  return server.app.inject({
    method: 'POST',
    url: '/v1/token',
    remoteAddress: from.ip,
    headers: { 'user-agent': from.userAgent },
    payload: { grant_type: 'password', username: email, password: PASSWORD, client_id: clientId },
  });
}

export function refreshFrom(
  server: TestServer,
  refreshToken: string,
  from: Device,
): Promise<LightMyRequestResponse> {
  return server.app.inject({
    method: 'POST',
    url: '/v1/token',
    remoteAddress: from.ip,
    headers: { 'user-agent': from.userAgent },
    payload: { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'app' },
  });
}

export interface CookieLogin {
  readonly response: LightMyRequestResponse;
  /** `lk_session=…`, as a browser sends it back. */
  readonly cookie: string;
  readonly csrfToken: string;
}

export async function cookieLogin(
  server: TestServer,
  email: string,
  from: Device,
): Promise<CookieLogin> {
  const response = await server.app.inject({
    method: 'POST',
    url: '/v1/session',
    remoteAddress: from.ip,
    headers: { 'user-agent': from.userAgent },
    payload: { email, password: PASSWORD },
  });
  const header = [response.headers['set-cookie'] ?? []].flat();
  const cookie = header.find((line) => line.startsWith('lk_session='))?.split(';')[0] ?? '';
  const csrfToken = response.statusCode === 200 ? (json(response)['csrfToken'] as string) : '';
  return { response, cookie, csrfToken };
}

/** A request with a cookie (and its CSRF token on unsafe methods) from a device. */
export function withCookie(
  server: TestServer,
  login: Pick<CookieLogin, 'cookie' | 'csrfToken'>,
  from: Device,
  method: 'GET' | 'POST' | 'DELETE' = 'GET',
  url = '/v1/me',
  payload?: Record<string, unknown>,
): Promise<LightMyRequestResponse> {
  return server.app.inject({
    method,
    url,
    remoteAddress: from.ip,
    headers: {
      'user-agent': from.userAgent,
      cookie: login.cookie,
      ...(method === 'GET' ? {} : { 'x-csrf-token': login.csrfToken }),
    },
    ...(payload !== undefined ? { payload } : {}),
  });
}

export function withBearer(
  server: TestServer,
  accessToken: string,
  method: 'GET' | 'POST' | 'DELETE' = 'GET',
  url = '/v1/me',
  payload?: Record<string, unknown>,
): Promise<LightMyRequestResponse> {
  return server.app.inject({
    method,
    url,
    headers: { authorization: `Bearer ${accessToken}` },
    ...(payload !== undefined ? { payload } : {}),
  });
}

/** The user's suspicious_activity events, oldest first. */
export async function suspicious(server: TestServer, userId: string): Promise<AuditEvent[]> {
  const events = await server.services.storage.listAudit({
    userId,
    type: 'suspicious_activity',
    limit: 1000,
  });
  return [...events].reverse();
}

/** The user's events of one type, oldest first. */
export async function eventsOf(
  server: TestServer,
  userId: string,
  type: AuditEvent['type'],
): Promise<AuditEvent[]> {
  return [...(await server.services.storage.listAudit({ userId, type, limit: 1000 }))].reverse();
}
