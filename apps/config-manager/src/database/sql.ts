import type { EntityManager } from 'typeorm';

/** What one statement returned: its rows (a SELECT, or `RETURNING`) and how many rows it changed. */
export interface SqlResult {
  rows: Record<string, unknown>[];
  affected: number;
}

// Each statement's text per dialect and schema, converted once.
const dialectTexts = new Map<string, string>();

/**
 * Runs one fixed, parameterised statement on the transaction's connection: `?` placeholders
 * (rewritten as `$1, $2…` for Postgres) and tables named `{table}` (qualified with the
 * configured Postgres schema, as the query builder does). For the write path's few hot statements only: the query
 * builder rebuilt their SQL on every call and inlined numbers into it, so SQLite prepared a new
 * statement each time, which was most of the manager's CPU per PATCH (issue 18's profile). The
 * text is constant, so both drivers reuse one prepared statement.
 */
export async function runSql(
  manager: EntityManager,
  sql: string,
  parameters: readonly unknown[],
): Promise<SqlResult> {
  const runner = manager.queryRunner;
  if (!runner) throw new Error('runSql needs the EntityManager of a transaction');
  const options = manager.connection.options;
  const text = dialectText(sql, options.type === 'postgres' ? (options.schema ?? '') : undefined);
  const result = (await runner.query(text, [...parameters], true)) as {
    records?: Record<string, unknown>[];
    affected?: number;
  };
  const rows = result.records ?? [];
  return { rows, affected: result.affected ?? rows.length };
}

const TABLE = /\{(\w+)\}/g;

/** The statement for SQLite (`schema` undefined) or Postgres in `schema` ('' for the default). */
function dialectText(sql: string, schema: string | undefined): string {
  const key = `${schema ?? '\u0001sqlite'}\0${sql}`;
  let text = dialectTexts.get(key);
  if (text === undefined) {
    if (schema === undefined) {
      text = sql.replace(TABLE, '"$1"');
    } else {
      let n = 0;
      const prefix = schema ? `"${schema.replaceAll('"', '""')}".` : '';
      text = sql.replace(/\?/g, () => `$${++n}`).replace(TABLE, `${prefix}"$1"`);
    }
    dialectTexts.set(key, text);
  }
  return text;
}
