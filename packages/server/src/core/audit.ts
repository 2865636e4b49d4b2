import type { AuditStore } from '../ports/storage.js';
import type { Clock } from './clock.js';
import type { AuditEventType, NewAuditEvent, RequestContext } from './model.js';

export interface AuditFields {
  readonly userId?: string | null;
  readonly sessionId?: string | null;
  readonly clientId?: string | null;
  readonly context?: RequestContext;
  readonly detail?: Readonly<Record<string, string | number | boolean | null>>;
}

/** Records security events. Callers pass reasons and evidence, never a secret. */
export class AuditLog {
  constructor(
    private readonly store: AuditStore,
    private readonly clock: Clock,
  ) {}

  async record(type: AuditEventType, fields: AuditFields = {}): Promise<void> {
    await this.store.appendAudit(this.event(type, fields));
  }

  /** The event as `record` would store it, for a store call that writes it with other changes. */
  event(type: AuditEventType, fields: AuditFields = {}): NewAuditEvent {
    return {
      type,
      at: this.clock.now(),
      userId: fields.userId ?? null,
      sessionId: fields.sessionId ?? null,
      clientId: fields.clientId ?? null,
      ip: fields.context?.ip ?? null,
      userAgent: fields.context?.userAgent ?? null,
      detail: fields.detail ?? {},
    };
  }
}
