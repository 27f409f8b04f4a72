import type { ChangeEntry } from '../api/types';
import { formatValue } from '../format';

/** Changes between two versions, old value beside new value. */
export function DiffTable(props: {
  entries: ChangeEntry[];
  fromLabel: string;
  toLabel: string;
  marked?: ReadonlySet<string>;
}) {
  if (props.entries.length === 0) return <p className="muted">No differences.</p>;
  return (
    <div className="table-wrap">
      <table className="diff">
        <thead>
          <tr>
            <th scope="col">Key</th>
            <th scope="col">{props.fromLabel}</th>
            <th scope="col">{props.toLabel}</th>
          </tr>
        </thead>
        <tbody>
          {props.entries.map((entry) => {
            const marked = [...(props.marked ?? [])].some(
              (path) =>
                path === entry.path ||
                entry.path.startsWith(`${path}.`) ||
                path.startsWith(`${entry.path}.`),
            );
            return (
              <tr key={entry.path} className={marked ? 'marked' : undefined}>
                <th scope="row">
                  <code>{entry.path}</code>
                  {marked ? <span title="you changed this too"> ✎</span> : null}
                </th>
                {'changed' in entry ? (
                  <td colSpan={2}>secret changed (value not shown)</td>
                ) : (
                  <>
                    <td className="old">{formatValue(entry.from)}</td>
                    <td className="new">{formatValue(entry.to)}</td>
                  </>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
