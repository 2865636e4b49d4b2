// The session cookie: `__Host-lk_session` (Secure, Path=/, no Domain) whenever cookies are secure,
// `lk_session` only on plain-http localhost development. Always HttpOnly.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { LatchkeyConfig } from '../config/types.js';

export class SessionCookie {
  readonly name: string;
  private readonly secure: boolean;
  private readonly sameSite: 'lax' | 'strict';

  constructor(config: Pick<LatchkeyConfig, 'cookies'>) {
    this.secure = config.cookies.secure;
    this.sameSite = config.cookies.sameSite;
    this.name = this.secure ? '__Host-lk_session' : 'lk_session';
  }

  read(request: FastifyRequest): string | undefined {
    return request.cookies[this.name];
  }

  set(reply: FastifyReply, value: string, expiresAt: number): void {
    void reply.setCookie(this.name, value, {
      httpOnly: true,
      secure: this.secure,
      sameSite: this.sameSite,
      path: '/',
      expires: new Date(expiresAt),
    });
  }

  clear(reply: FastifyReply): void {
    void reply.setCookie(this.name, '', {
      httpOnly: true,
      secure: this.secure,
      sameSite: this.sameSite,
      path: '/',
      expires: new Date(0),
      maxAge: 0,
    });
  }
}
