// The few Latchkey calls the benchmark needs (API.md), over the keep-alive client.

/** ≥ 15 characters and on no common-password list (API.md password policy). */
export const BENCH_PASSWORD = 'latchkey-bench-Quiet-Harbour-7c1e';

export function latchkeyApi(http) {
  return {
    http,
    /** POST /v1/accounts; resolves the created user or throws. */
    async signUp(email, password = BENCH_PASSWORD) {
      const response = await http.postJson('/v1/accounts', { email, password });
      expectStatus(response, 201, `sign up ${email}`);
      return JSON.parse(response.text).user;
    },
    /** POST /v1/token grant_type=password; the raw response. */
    passwordGrant(email, password = BENCH_PASSWORD, clientId = 'app') {
      return http.postForm('/v1/token', {
        grant_type: 'password',
        username: email,
        password,
        client_id: clientId,
      });
    },
    /** A password grant that must succeed: { access_token, refresh_token?, … }. */
    async login(email, password = BENCH_PASSWORD, clientId = 'app') {
      const response = await this.passwordGrant(email, password, clientId);
      expectStatus(response, 200, `password grant for ${email}`);
      return JSON.parse(response.text);
    },
    /** POST /v1/token grant_type=refresh_token; the raw response. */
    refresh(refreshToken, clientId = 'app') {
      return http.postForm('/v1/token', {
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        client_id: clientId,
      });
    },
    /** GET /v1/me with a Bearer token; the raw response. */
    me(accessToken) {
      return http.request({ path: '/v1/me', headers: { authorization: `Bearer ${accessToken}` } });
    },
    /** POST /v1/session (cookie strategy, JSON body); the raw response. */
    sessionLogin(email, password = BENCH_PASSWORD, clientId = 'web') {
      return http.postJson('/v1/session', { email, password, clientId });
    },
    /**
     * A cookie login that must succeed: the `name=value` pair of the session cookie, exactly as a
     * browser sends it back in `Cookie:` (`lk_session` on plain-http loopback).
     */
    async sessionCookie(email, password = BENCH_PASSWORD, clientId = 'web') {
      const response = await this.sessionLogin(email, password, clientId);
      expectStatus(response, 200, `POST /v1/session for ${email}`);
      const setCookie = [response.headers['set-cookie'] ?? []].flat();
      const line = setCookie.find((c) => /^(__Host-)?lk_session=/.test(c));
      if (!line) throw new Error(`POST /v1/session: no session cookie in ${setCookie.join(' | ')}`);
      return { pair: line.split(';')[0], setCookie: line };
    },
    /** GET /v1/me with the given headers (e.g. a Cookie); the raw response. */
    meWith(headers) {
      return http.request({ path: '/v1/me', headers });
    },
  };
}

export function expectStatus(response, status, what) {
  if (response.status !== status) {
    throw new Error(`${what}: expected ${status}, got ${response.status}: ${response.text}`);
  }
}

/** A loop-task outcome for a response: ok only for `status`, else the status and a body sample. */
export function outcome(response, status = 200) {
  return response.status === status
    ? { ok: true }
    : { ok: false, status: response.status, detail: response.text.slice(0, 200) };
}
