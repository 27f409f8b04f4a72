// A list of problems, each at the dotted path it names (a schema keyword, a config field).
import { detailMessage } from '../api/registration-errors';
import type { ErrorDetail } from '../api/types';

/** Problems by path; nothing when there are none. */
export function ErrorDetails(props: {
  id: string;
  title?: string;
  details: readonly ErrorDetail[];
}) {
  if (props.details.length === 0) return null;
  return (
    <div id={props.id} className="problems" role="alert">
      {props.title ? <p className="field-error">{props.title}</p> : null}
      <ul>
        {props.details.map((detail, index) => (
          <li key={`${detail.path}:${index}`}>
            {detail.path ? (
              <>
                <code>{detail.path}</code>{' '}
              </>
            ) : null}
            {detailMessage(detail)}
          </li>
        ))}
      </ul>
    </div>
  );
}
