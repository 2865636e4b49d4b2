// PostgreSQL: the refresh rotations that arrive during one turn of the event loop go to the
// database as one statement, the single-statement rotation (refresh-rotation.ts) over arrays.
// Each statement costs a round trip, a parse-bind-execute through pg and PostgreSQL, and a commit
// with its WAL flush; under load a turn brings several refreshes, and one statement carries them
// all. A lone rotation still goes as the single statement.
//
// The batch statement is not a named prepared statement: PostgreSQL plans it on each run. A plan
// kept per connection is made once, when the tables may still be small, and for `= ANY(array)`
// over a few pages a sequential scan is the cheaper plan; kept while `refresh_tokens` grows (it
// keeps every rotated token of a live family), that plan made each batch slower than the last
// (measured: 2,150 → 1,250 rotations/s within 15 s of the benchmark). Planning each run costs
// less than it saves, and its plan follows the tables.
import { sql, type Kysely } from 'kysely';
import type { RotateRefreshTokenInput } from '../../ports/storage.js';
import { PreparedQuery, type OnPrepare } from './prepared-query.js';
import {
  auditValues,
  rotationValues,
  SingleStatementRotation,
  type PendingRotation,
  type RotationOutcome,
  type RotationWriter,
} from './refresh-rotation.js';
import type { Database } from './schema.js';
import { retryingVictims } from './transactions.js';

/** A batch's values, one array per column; index i belongs to the i-th rotation. */
interface BatchValues {
  readonly presentedHashes: readonly string[];
  readonly successorHashes: readonly string[];
  readonly successorSealed: readonly string[];
  readonly nows: readonly number[];
  readonly idleExpiresAts: readonly number[];
  readonly auditTypes: ReadonlyArray<string | null>;
  readonly auditAts: ReadonlyArray<number | null>;
  readonly auditUserIds: ReadonlyArray<string | null>;
  readonly auditSessionIds: ReadonlyArray<string | null>;
  readonly auditClientIds: ReadonlyArray<string | null>;
  readonly auditIps: ReadonlyArray<string | null>;
  readonly auditUserAgents: ReadonlyArray<string | null>;
  readonly auditDetails: ReadonlyArray<string | null>;
}

/**
 * Rotations queued during one turn are sent at its end as one statement and answered when it has
 * committed. Inside it, each rotation is what the single statement does: sessions locked first
 * (in id order, so two batches cannot deadlock on each other), then the compare-and-set on
 * `rotated_at IS NULL`, and only the winners slide, insert their successor and their audit event.
 *
 * Two requests of one batch may present the same token (a client retrying at once): the
 * compare-and-set updates the row once, with one of them, and the statement returns that one's
 * successor hash, which tells which request won. When the batch fails as a whole, each rotation is
 * tried again alone, so one cannot fail the others.
 */
export class BatchedRotation implements RotationWriter {
  private queue: PendingRotation[] = [];
  private readonly single: SingleStatementRotation;
  private readonly batch: PreparedQuery<BatchValues, { successor_hash: string }>;

  constructor(
    private readonly db: Kysely<Database>,
    onPrepare?: OnPrepare,
  ) {
    this.single = new SingleStatementRotation(db, onPrepare);
    this.batch = new PreparedQuery((p) => {
      const statement = sql<{ successor_hash: string }>`
        with input as (
          select * from unnest(
            ${p('presentedHashes')}::text[], ${p('successorHashes')}::text[],
            ${p('successorSealed')}::text[], ${p('nows')}::bigint[],
            ${p('idleExpiresAts')}::bigint[], ${p('auditTypes')}::text[],
            ${p('auditAts')}::bigint[], ${p('auditUserIds')}::text[],
            ${p('auditSessionIds')}::text[], ${p('auditClientIds')}::text[],
            ${p('auditIps')}::text[], ${p('auditUserAgents')}::text[],
            ${p('auditDetails')}::text[]
          ) as i(presented_hash, successor_hash, successor_sealed, now, idle_expires_at,
                 audit_type, audit_at, audit_user_id, audit_session_id, audit_client_id,
                 audit_ip, audit_user_agent, audit_detail)
        ),
        locked as (
          select s.id from sessions s
           where s.id in (select t.session_id from refresh_tokens t
                           where t.token_hash = any(${p('presentedHashes')}::text[]))
           order by s.id
             for update of s
        ),
        won as (
          update refresh_tokens t
             set rotated_at = i.now,
                 successor_hash = i.successor_hash,
                 successor_sealed = i.successor_sealed
            from input i
           where t.token_hash = any(${p('presentedHashes')}::text[])
             and t.token_hash = i.presented_hash
             and t.rotated_at is null
             and t.session_id in (select id from locked)
          returning t.session_id, i.*
        ),
        slid as (
          update sessions s
             set last_seen_at = w.now, idle_expires_at = w.idle_expires_at
            from won w
           where s.id = w.session_id
          returning s.id
        ),
        successor as (
          insert into refresh_tokens (token_hash, session_id, created_at)
          select w.successor_hash, w.session_id, w.now from won w
          returning token_hash
        ),
        audited as (
          insert into audit_events (type, at, user_id, session_id, client_id, ip, user_agent, detail)
          select w.audit_type, w.audit_at, w.audit_user_id, w.audit_session_id, w.audit_client_id,
                 w.audit_ip, w.audit_user_agent, w.audit_detail
            from won w
           where w.audit_type is not null
          returning id
        )
        select successor_hash from won`;
      return { compile: () => statement.compile(db) };
    });
  }

  rotate(input: RotateRefreshTokenInput): Promise<RotationOutcome> {
    return new Promise((resolve, reject) => {
      if (this.queue.push({ input, resolve, reject }) === 1) setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    const batch = this.queue;
    this.queue = [];
    if (batch.length === 1) {
      const [only] = batch as [PendingRotation];
      this.single.rotate(only.input).then(only.resolve, only.reject);
      return;
    }
    let won: Set<string>;
    try {
      const rows = await retryingVictims(() =>
        this.batch.execute(this.db, batchValues(batch.map((pending) => pending.input))),
      );
      won = new Set(rows.map((row) => row.successor_hash));
    } catch {
      for (const pending of batch) {
        this.single.rotate(pending.input).then(pending.resolve, pending.reject);
      }
      return;
    }
    for (const pending of batch) {
      pending.resolve(won.has(pending.input.successor.tokenHash) ? 'rotated' : 'already_rotated');
    }
  }
}

function batchValues(inputs: readonly RotateRefreshTokenInput[]): BatchValues {
  const rotations = inputs.map(rotationValues);
  const audits = inputs.map((input) => (input.audit ? auditValues(input.audit) : null));
  return {
    presentedHashes: rotations.map((r) => r.presentedHash),
    successorHashes: rotations.map((r) => r.successorHash),
    successorSealed: rotations.map((r) => r.successorSealed),
    nows: rotations.map((r) => r.now),
    idleExpiresAts: rotations.map((r) => r.idleExpiresAt),
    auditTypes: audits.map((a) => a?.type ?? null),
    auditAts: audits.map((a) => a?.at ?? null),
    auditUserIds: audits.map((a) => a?.userId ?? null),
    auditSessionIds: audits.map((a) => a?.sessionId ?? null),
    auditClientIds: audits.map((a) => a?.clientId ?? null),
    auditIps: audits.map((a) => a?.ip ?? null),
    auditUserAgents: audits.map((a) => a?.userAgent ?? null),
    auditDetails: audits.map((a) => a?.detail ?? null),
  };
}
