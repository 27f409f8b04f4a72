import type { EntityManager } from 'typeorm';

/** What one statement returned: its rows (a SELECT, or `RETURNING`) and how many rows it changed. */
export interface SqlResult {
  rows: Record<string, unknown>[];
  affected: number;
}

// The Postgres text of each statement, converted once.
const postgresText = new Map<string, string>();

/**
 * Runs one fixed, parameterised statement on the transaction's connection (`?` placeholders,
 * rewritten as `$1, $2…` for Postgres). For the write path's few hot statements only: the query
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
  const text = manager.connection.options.type === 'postgres' ? toPostgres(sql) : sql;
  const result = (await runner.query(text, [...parameters], true)) as {
    records?: Record<string, unknown>[];
    affected?: number;
  };
  const rows = result.records ?? [];
  return { rows, affected: result.affected ?? rows.length };
}

function toPostgres(sql: string): string {
  let text = postgresText.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    postgresText.set(sql, text);
  }
  return text;
}
