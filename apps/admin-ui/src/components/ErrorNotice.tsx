// How a failed request shows on any screen.
import type { ApiError } from '../api/client';

/** An error from the API, with the request id to quote to ops. */
export function ErrorNotice({ error, title }: { error: ApiError | undefined; title?: string }) {
  if (error === undefined) return null;
  return (
    <div className="notice notice-error" role="alert">
      {title ? <strong>{title}: </strong> : null}
      {error.message}
      {error.body?.requestId ? (
        <span className="muted"> (request {error.body.requestId})</span>
      ) : null}
    </div>
  );
}
