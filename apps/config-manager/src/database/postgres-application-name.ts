/**
 * The manager's Postgres application_name: `config-manager`, with `:<schema>` when DATABASE_URL
 * names one, so `npm run restore` can tell a manager connected to its schema from one on another
 * schema of the same database (Postgres keeps 63 bytes: a schema is at most 63 characters).
 */
export function postgresApplicationName(db: { schema?: string }): string {
  return (db.schema ? `config-manager:${db.schema}` : 'config-manager').slice(0, 63);
}
