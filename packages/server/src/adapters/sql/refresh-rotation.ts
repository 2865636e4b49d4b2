// How a refresh rotation reaches the database. The compare-and-set is the same on both engines (an
// UPDATE of the presented token WHERE rotated_at IS NULL: only one request can match it); what
// differs is what one rotation costs around it, which is most of what a refresh costs:
//  - PostgreSQL: one statement. Each statement is a network round trip; the five steps of a
//    rotation as separate statements, with BEGIN and COMMIT, made a refresh seven of them.
//    Rotations that arrive together go as one such statement over arrays (batched-rotation.ts).
//  - SQLite: group commit. A statement is a function call, but a commit writes every page the
//    transaction dirtied to the WAL (about ten per rotation, two write calls each), and was more
//    than half of a rotation's time in SQLite. Rotations that arrive together share one
//    transaction, so the pages they have in common (the audit log's tail and its indexes, the
//    tokens table's tail) are written once per batch.
// Both run prepared queries (prepared-query.ts): Kysely builds each statement once.
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { NewAuditEvent } from '../../core/model.js';
import type { RotateRefreshTokenInput } from '../../ports/storage.js';
import { PreparedQuery, type OnPrepare, type Param } from './prepared-query.js';
import type { Database } from './schema.js';
import { inTransaction, retryingVictims } from './transactions.js';

export type RotationOutcome = 'rotated' | 'already_rotated';

export interface RotationWriter {
  rotate(input: RotateRefreshTokenInput): Promise<RotationOutcome>;
}

/** The values a rotation binds, flat, as PreparedQuery names them. */
export interface RotationValues {
  readonly presentedHash: string;
  readonly now: number;
  readonly idleExpiresAt: number;
  readonly successorHash: string;
  readonly successorSealed: string;
}

/** An audit event as stored: its detail as JSON text. */
export type AuditValues = Omit<NewAuditEvent, 'detail'> & { readonly detail: string };

export const rotationValues = (input: RotateRefreshTokenInput): RotationValues => ({
  presentedHash: input.presentedHash,
  now: input.now,
  idleExpiresAt: input.idleExpiresAt,
  successorHash: input.successor.tokenHash,
  successorSealed: input.successor.sealed,
});

export const auditValues = (event: NewAuditEvent): AuditValues => ({
  type: event.type,
  at: event.at,
  userId: event.userId,
  sessionId: event.sessionId,
  clientId: event.clientId,
  ip: event.ip,
  userAgent: event.userAgent,
  detail: JSON.stringify(event.detail),
});

/**
 * PostgreSQL: the rotation as one statement of data-modifying CTEs, atomic by itself. The session
 * row is locked first (`locked`), as revokeSessions takes it, so a rotation racing a revocation of
 * its family waits instead of deadlocking; a concurrent rotation of the same token waits on that
 * lock too, then finds `rotated_at` set and changes nothing. Everything after the compare-and-set
 * reads `won`, so nothing is written unless it matched.
 */
export class SingleStatementRotation implements RotationWriter {
  private readonly withAudit: PreparedQuery<RotationValues & AuditValues, { session_id: string }>;
  private readonly withoutAudit: PreparedQuery<RotationValues, { session_id: string }>;

  constructor(
    private readonly db: Kysely<Database>,
    onPrepare?: OnPrepare,
  ) {
    this.withAudit = new PreparedQuery(
      (p) => rotationStatement(db, p, auditSelection(p)),
      onPrepare,
    );
    this.withoutAudit = new PreparedQuery((p) => rotationStatement(db, p, null), onPrepare);
  }

  rotate(input: RotateRefreshTokenInput): Promise<RotationOutcome> {
    return retryingVictims(async () => {
      const row = input.audit
        ? await this.withAudit.executeTakeFirst(this.db, {
            ...rotationValues(input),
            ...auditValues(input.audit),
          })
        : await this.withoutAudit.executeTakeFirst(this.db, rotationValues(input));
      return row ? 'rotated' : 'already_rotated';
    });
  }
}

/** The compare-and-set: the presented token records its successor only if not rotated yet. */
function markRotated(db: Kysely<Database>, p: Param<RotationValues>) {
  return db
    .updateTable('refresh_tokens')
    .set({
      rotated_at: p('now'),
      successor_hash: p('successorHash'),
      successor_sealed: p('successorSealed'),
    })
    .where('token_hash', '=', p('presentedHash'))
    .where('rotated_at', 'is', null);
}

/** The audit row as a select list of typed parameters (INSERT … SELECT infers no column types). */
function auditSelection(p: Param<AuditValues>) {
  return [
    sql<string>`${p('type')}::text`.as('type'),
    sql<number>`${p('at')}::bigint`.as('at'),
    sql<string | null>`${p('userId')}::text`.as('user_id'),
    sql<string | null>`${p('sessionId')}::text`.as('session_id'),
    sql<string | null>`${p('clientId')}::text`.as('client_id'),
    sql<string | null>`${p('ip')}::text`.as('ip'),
    sql<string | null>`${p('userAgent')}::text`.as('user_agent'),
    sql<string>`${p('detail')}::text`.as('detail'),
  ] as const;
}

function rotationStatement(
  db: Kysely<Database>,
  p: Param<RotationValues>,
  audit: ReturnType<typeof auditSelection> | null,
) {
  return db
    .with('locked', (qb) =>
      qb
        .selectFrom('sessions')
        .select('sessions.id')
        .where('sessions.id', '=', (eb) =>
          eb
            .selectFrom('refresh_tokens')
            .select('refresh_tokens.session_id')
            .where('refresh_tokens.token_hash', '=', p('presentedHash')),
        )
        .forUpdate(),
    )
    .with('won', () =>
      markRotated(db, p)
        .where(sql<boolean>`session_id in (select id from locked)`)
        .returning(['session_id']),
    )
    .with('slid', (qb) =>
      qb
        .updateTable('sessions')
        .set({ last_seen_at: p('now'), idle_expires_at: p('idleExpiresAt') })
        .where('id', 'in', (eb) => eb.selectFrom('won').select('won.session_id'))
        .returning('id'),
    )
    .with('successor', (qb) =>
      qb
        .insertInto('refresh_tokens')
        .columns(['token_hash', 'session_id', 'created_at'])
        .expression((eb) =>
          eb
            .selectFrom('won')
            .select([
              sql<string>`${p('successorHash')}::text`.as('token_hash'),
              'won.session_id',
              sql<number>`${p('now')}::bigint`.as('created_at'),
            ]),
        )
        .returning('token_hash'),
    )
    .with('audited', (qb) =>
      qb
        .insertInto('audit_events')
        .columns(['type', 'at', 'user_id', 'session_id', 'client_id', 'ip', 'user_agent', 'detail'])
        .expression((eb) =>
          eb
            .selectFrom('won')
            // Without an event to write, select no row.
            .where(sql.lit(audit !== null))
            .select(audit ?? auditSelection(() => null as never)),
        )
        .returning('id'),
    )
    .selectFrom('won')
    .select('won.session_id');
}

/** A rotation waiting for its batch, and how to answer it. */
export interface PendingRotation {
  readonly input: RotateRefreshTokenInput;
  readonly resolve: (outcome: RotationOutcome) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * SQLite: rotations queued during one turn of the event loop are written in one transaction,
 * committed once, and answered after that commit, so no response precedes its durability. Nothing
 * waits for a batch to fill: the first rotation schedules the flush for the end of the current
 * turn, and a lone rotation commits as soon as it would have alone.
 *
 * Inside the batch each rotation runs its compare-and-set first and writes nothing else if it
 * lost, so a loser needs no savepoint. When the batch fails as a whole (a write error), each
 * rotation is tried again in a transaction of its own, so one cannot fail the others.
 */
export class GroupCommitRotation implements RotationWriter {
  private queue: PendingRotation[] = [];
  private flushScheduled = false;
  private readonly statements: RotationStatements;

  constructor(private readonly db: Kysely<Database>) {
    this.statements = new RotationStatements(db);
  }

  rotate(input: RotateRefreshTokenInput): Promise<RotationOutcome> {
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.flushScheduled = false;
    const batch = this.queue;
    this.queue = [];
    try {
      const outcomes = await inTransaction(this.db, async (trx) => {
        const done: RotationOutcome[] = [];
        for (const pending of batch)
          done.push(await this.statements.rotateWithin(trx, pending.input));
        return done;
      });
      batch.forEach((pending, i) => pending.resolve(outcomes[i]!));
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      for (const pending of batch) {
        inTransaction(this.db, (trx) => this.statements.rotateWithin(trx, pending.input)).then(
          pending.resolve,
          pending.reject,
        );
      }
    }
  }
}

/** The separate statements of one rotation, for a transaction that holds several. */
class RotationStatements {
  private readonly compareAndSet: PreparedQuery<RotationValues, { session_id: string }>;
  private readonly slide: PreparedQuery<RotationValues & { sessionId: string }, unknown>;
  private readonly insertSuccessor: PreparedQuery<RotationValues & { sessionId: string }, unknown>;
  private readonly audit: AuditInsert;

  constructor(db: Kysely<Database>) {
    this.compareAndSet = new PreparedQuery((p) => markRotated(db, p).returning('session_id'));
    this.slide = new PreparedQuery((p) =>
      db
        .updateTable('sessions')
        .set({ last_seen_at: p('now'), idle_expires_at: p('idleExpiresAt') })
        .where('id', '=', p('sessionId')),
    );
    this.insertSuccessor = new PreparedQuery((p) =>
      db.insertInto('refresh_tokens').values({
        token_hash: p('successorHash'),
        session_id: p('sessionId'),
        created_at: p('now'),
        rotated_at: null,
        successor_hash: null,
        successor_sealed: null,
      }),
    );
    this.audit = new AuditInsert(db);
  }

  /** One rotation: the compare-and-set, then, only if it won, the rest. */
  async rotateWithin(
    trx: Transaction<Database>,
    input: RotateRefreshTokenInput,
  ): Promise<RotationOutcome> {
    const values = rotationValues(input);
    const won = await this.compareAndSet.executeTakeFirst(trx, values);
    if (!won) return 'already_rotated';
    const withSession = { ...values, sessionId: won.session_id };
    await this.slide.execute(trx, withSession);
    await this.insertSuccessor.execute(trx, withSession);
    if (input.audit) await this.audit.append(trx, input.audit);
    return 'rotated';
  }
}

/** Appends one audit event; prepared once per database. */
export class AuditInsert {
  private readonly query: PreparedQuery<AuditValues, unknown>;

  constructor(db: Kysely<Database>, onPrepare?: OnPrepare) {
    this.query = new PreparedQuery(
      (p) =>
        db.insertInto('audit_events').values({
          type: p('type'),
          at: p('at'),
          user_id: p('userId'),
          session_id: p('sessionId'),
          client_id: p('clientId'),
          ip: p('ip'),
          user_agent: p('userAgent'),
          detail: p('detail'),
        }),
      onPrepare,
    );
  }

  async append(db: Kysely<Database>, event: NewAuditEvent): Promise<void> {
    await this.query.execute(db, auditValues(event));
  }
}
