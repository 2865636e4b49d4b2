// The storage configurations a scenario can run against, each a Latchkey server of
// lib/context.mjs. Rows name theirs in the label; ids of non-default storages get a prefix.
export const SQLITE = {
  id: 'sqlite',
  label: 'SQLite',
  server: 'latchkey',
  idPrefix: '',
};

export const POSTGRES_REDIS = {
  id: 'postgres-redis',
  label: 'PostgreSQL+Redis',
  server: 'latchkey-pg',
  idPrefix: 'pg-',
};

export const STORAGES = [SQLITE, POSTGRES_REDIS];

/**
 * "; PostgreSQL x cores (backends: n), Redis y cores" for the detail column of runs against
 * PostgreSQL+Redis (lib/context.mjs window()), or "" for the others.
 */
export function dependencyDetail(runs, medianOf) {
  if (!runs.every((run) => run.window?.dependencies)) return '';
  const deps = (pick) => medianOf(runs, (run) => pick(run.window.dependencies));
  return (
    `; PostgreSQL ${deps((d) => d.postgresCores).toFixed(2)} cores ` +
    `(backends: ${deps((d) => d.postgresBackends)}), Redis ${deps((d) => d.redisCores).toFixed(2)} cores`
  );
}
