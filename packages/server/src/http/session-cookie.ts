// The session cookie: `__Host-lk_session` (Secure, Path=/, no Domain) whenever cookies are secure,
// `lk_session` only on plain-http localhost development. Always HttpOnly.
//
// Read and written here rather than through a cookie plugin: this is the only cookie Latchkey
// knows, its values are base64url (nothing to encode or decode), and a plugin would parse every
// request's Cookie header and hook every reply, Bearer calls included.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LatchkeyConfig } from '../config/types.js';

export class SessionCookie {
  readonly name: string;
  /** `name=` as it starts a pair in a Cookie header. */
  private readonly pairPrefix: string;
  /** Path, HttpOnly, Secure and SameSite, the same on every Set-Cookie. */
  private readonly attributes: string;

  constructor(config: Pick<LatchkeyConfig, 'cookies'>) {
    const { secure, sameSite } = config.cookies;
    this.name = secure ? '__Host-lk_session' : 'lk_session';
    this.pairPrefix = `${this.name}=`;
    this.attributes =
      `; Path=/; HttpOnly${secure ? '; Secure' : ''}` +
      `; SameSite=${sameSite === 'strict' ? 'Strict' : 'Lax'}`;
  }

  /**
   * The session cookie's value, or undefined. When the header carries the name twice, the first
   * wins (RFC 6265 section 5.4 puts the most specific path first).
   */
  read(request: FastifyRequest): string | undefined {
    const header = request.headers.cookie;
    if (header === undefined) return undefined;
    for (const pair of header.split(';')) {
      const trimmed = pair.trim();
      if (trimmed.startsWith(this.pairPrefix)) return trimmed.slice(this.pairPrefix.length);
    }
    return undefined;
  }

  set(reply: FastifyReply, value: string, expiresAt: number): void {
    void reply.header(
      'set-cookie',
      `${this.pairPrefix}${value}; Expires=${new Date(expiresAt).toUTCString()}${this.attributes}`,
    );
  }

  clear(reply: FastifyReply): void {
    void reply.header(
      'set-cookie',
      `${this.pairPrefix}; Expires=${new Date(0).toUTCString()}; Max-Age=0${this.attributes}`,
    );
  }
}
