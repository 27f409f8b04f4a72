// The registration's live preview: the config form a schema will produce, tried but never saved.
import { Component, type ReactNode } from 'react';
import type { JsonSchema } from '../api/types';
import { useFormPreview } from '../hooks/useFormPreview';
import { ConfigSection } from './ConfigSection';

/** The form the schema makes, its defaults filled in; key it by the schema text. */
export function SchemaPreview(props: { schema: JsonSchema; note: string }) {
  return (
    <PreviewBoundary>
      <PreviewForm {...props} />
    </PreviewBoundary>
  );
}

function PreviewForm({ schema, note }: { schema: JsonSchema; note: string }) {
  const preview = useFormPreview(schema);
  if (preview.form.length === 0) {
    return <p className="muted">The schema has no properties yet: the form would be empty.</p>;
  }
  const problems = Object.keys(preview.errors).length;
  return (
    <>
      <p className="muted small">
        {note} Try values here: nothing is saved.
        {preview.changed.size > 0 ? (
          <>
            {' '}
            <button type="button" onClick={preview.reset}>
              Back to the defaults
            </button>
          </>
        ) : null}
      </p>
      {problems > 0 ? (
        <p className="field-error" role="status">
          {problems} {problems === 1 ? 'field does' : 'fields do'} not pass the checks.
        </p>
      ) : null}
      {preview.form.map((group) => (
        <ConfigSection
          key={group.path}
          group={group}
          draft={preview.draft}
          texts={preview.texts}
          errors={preview.errors}
          changed={preview.changed}
          highlighted={undefined}
          disabled={false}
          onChange={preview.change}
        />
      ))}
      {preview.secretPaths.length > 0 ? (
        <p className="muted">
          Secrets ({preview.secretPaths.join(', ')}) are not part of the form: set them under
          Secrets once the service is registered.
        </p>
      ) : null}
    </>
  );
}

/** A schema being typed may be one the form cannot show: say so instead of losing the page. */
class PreviewBoundary extends Component<{ children: ReactNode }, { failed?: string }> {
  override state: { failed?: string } = {};

  static getDerivedStateFromError(error: unknown) {
    return { failed: error instanceof Error ? error.message : String(error) };
  }

  override render() {
    return this.state.failed === undefined ? (
      this.props.children
    ) : (
      <p className="notice notice-warning">
        The preview cannot show this schema ({this.state.failed}); the manager checks it on save.
      </p>
    );
  }
}
