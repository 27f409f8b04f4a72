import { Column } from 'typeorm';

/**
 * A binary (Buffer) column that one entity can use on SQLite and Postgres. TypeORM has no binary
 * type that both drivers accept (blob vs bytea) and infers none from `Buffer` on Postgres, so
 * the entity declares a type both accept; the real column type comes from the migration
 * (blob / bytea), and both drivers read and write Buffers natively without conversion.
 */
export function BinaryColumn(
  options: { name?: string; nullable?: boolean } = {},
): PropertyDecorator {
  return Column({ ...options, type: 'text' });
}
