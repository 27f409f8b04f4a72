import { ErrorDetails } from '../components/ErrorDetails';
import { SchemaPreview } from '../components/SchemaPreview';
import { useServiceRegistration, type RegistrationInput } from '../hooks/useServiceRegistration';
import { describeSyntaxError } from '../schema/json-text';

/**
 * Registering a service, or changing the schema of one registered over the API: the schema
 * pasted or uploaded, checked as it is typed, and beside it the form it will produce.
 */
export function RegistrationForm(props: RegistrationInput) {
  const form = useServiceRegistration(props);
  const { errors, precheck, syntaxError, editing } = form;
  const schemaProblems = [...(precheck?.problems ?? []), ...errors.schema];
  const schemaDescribedBy = [
    'schema-help',
    syntaxError ? 'schema-syntax' : '',
    schemaProblems.length > 0 ? 'schema-problems' : '',
  ]
    .filter(Boolean)
    .join(' ');

  return (
    <div className="registration">
      <form
        className="section"
        aria-label={editing ? `Change the schema of ${form.name}` : 'Register a service'}
        noValidate
        onSubmit={(event) => {
          event.preventDefault();
          void form.submit();
        }}
      >
        {editing ? null : (
          <div className="field">
            <label htmlFor="register-name">Service name</label>
            <input
              id="register-name"
              value={form.name}
              onChange={(event) => form.setName(event.target.value.trim())}
              autoComplete="off"
              spellCheck={false}
              aria-invalid={form.nameProblem !== undefined || errors.service.length > 0}
              aria-describedby="register-name-help register-name-problems"
            />
            <p id="register-name-help" className="muted small">
              Also its MQTT topic segment, e.g. <code>billing-worker</code>.
            </p>
            {form.nameProblem ? <p className="field-error">{form.nameProblem}</p> : null}
            <ErrorDetails
              id="register-name-problems"
              title="Name refused"
              details={errors.service}
            />
          </div>
        )}
        <div className="field">
          <label htmlFor="register-description">Description</label>
          <input
            id="register-description"
            value={form.description}
            maxLength={500}
            onChange={(event) => form.setDescription(event.target.value)}
          />
          <ErrorDetails id="register-description-problems" details={errors.description} />
        </div>
        <div className="field">
          <label htmlFor="register-schema">Schema (JSON Schema, draft 2020-12)</label>
          <textarea
            id="register-schema"
            className="code schema-text"
            rows={18}
            spellCheck={false}
            value={form.schemaText}
            onChange={(event) => form.setSchemaText(event.target.value)}
            aria-invalid={syntaxError !== undefined || schemaProblems.length > 0}
            aria-describedby={schemaDescribedBy}
          />
          <p id="schema-help" className="muted small">
            Paste the schema, or upload it:{' '}
            <label htmlFor="register-schema-file" className="visually-hidden">
              Schema file
            </label>
            <input
              id="register-schema-file"
              type="file"
              accept="application/json,.json"
              onChange={(event) => {
                void form.loadFile(event.target.files?.[0]);
                // The file is read: choosing the same one again (after editing it) reads it again.
                event.target.value = '';
              }}
            />
          </p>
          {form.fileStatus ? (
            <p className="muted small" role="status">
              {form.fileStatus}
            </p>
          ) : null}
          {syntaxError ? (
            <p id="schema-syntax" className="field-error" role="alert">
              {describeSyntaxError(syntaxError)}
            </p>
          ) : null}
          <ErrorDetails
            id="schema-problems"
            title={
              errors.schema.length > 0 ? 'The manager refused the schema' : 'Problems in the schema'
            }
            details={schemaProblems}
          />
        </div>
        <div className="field">
          <label htmlFor="register-recipient-key">Recipient key (optional)</label>
          <input
            id="register-recipient-key"
            value={form.recipientKey}
            onChange={(event) => form.setRecipientKey(event.target.value)}
            autoComplete="off"
            spellCheck={false}
            placeholder={
              editing ? 'leave empty to keep the current key' : 'base64 X25519 public key'
            }
            aria-invalid={errors.recipientKey.length > 0}
            aria-describedby="register-recipient-key-help"
          />
          <p id="register-recipient-key-help" className="muted small">
            The workers&apos; public key their secrets are sealed to (
            <code>npm run keys -- service-keys &lt;service&gt;</code> prints a pair); without one,
            secrets are stored but not sent.
          </p>
          <ErrorDetails id="register-key-problems" details={errors.recipientKey} />
        </div>
        {editing ? <ConfigToMoveTo form={form} /> : null}
        <div className="field">
          <label htmlFor="register-reason">Reason</label>
          <input
            id="register-reason"
            value={form.reason}
            onChange={(event) => form.setReason(event.target.value)}
            placeholder="optional, kept in the schema history and audit"
            aria-invalid={form.reasonError !== undefined}
          />
          {form.reasonError ? <p className="field-error">{form.reasonError}</p> : null}
        </div>
        <ErrorDetails id="register-problems" title="Not saved" details={errors.form} />
        <div className="actions">
          <button type="submit" className="primary" disabled={!form.canSubmit}>
            {form.busy
              ? 'Saving…'
              : editing
                ? form.sendConfig
                  ? 'Save schema and config'
                  : 'Save schema'
                : 'Register service'}
          </button>
        </div>
      </form>
      <section className="section preview" aria-labelledby="preview-title">
        <h2 id="preview-title">Preview: the config form</h2>
        {form.document ? (
          <SchemaPreview
            key={form.schemaText}
            schema={form.document}
            note={
              editing
                ? 'The config editor will show this form, here with the schema’s defaults.'
                : 'Version 1 starts from these defaults.'
            }
          />
        ) : (
          <p className="muted">The form appears here once the schema is a JSON object.</p>
        )}
      </section>
    </div>
  );
}

/** Changing a schema: the config to move to, opened by a 409 or by the admin. */
function ConfigToMoveTo({ form }: { form: ReturnType<typeof useServiceRegistration> }) {
  const { errors } = form;
  return (
    <div className="field">
      {form.conflict ? (
        <p className="notice notice-warning" role="alert">
          The current config does not fit the new schema. Edit the config to move to below so that
          it fits (or change the schema), then save again.
        </p>
      ) : null}
      <label className="toggle">
        <input
          type="checkbox"
          checked={form.sendConfig}
          onChange={(event) => form.setSendConfig(event.target.checked)}
        />{' '}
        Send the config to move to with the schema
      </label>
      <ErrorDetails
        id="register-config-problems"
        title={form.conflict ? 'Fields that do not fit the new schema' : 'The config was refused'}
        details={errors.config}
      />
      {form.sendConfig ? (
        <>
          <label htmlFor="register-config">Config to move to (JSON)</label>
          <textarea
            id="register-config"
            className="code"
            rows={12}
            spellCheck={false}
            value={form.configText}
            onChange={(event) => form.setConfigText(event.target.value)}
            aria-invalid={form.configSyntaxError !== undefined || errors.config.length > 0}
            aria-describedby="register-config-problems"
          />
          {form.configSyntaxError ? (
            <p className="field-error" role="alert">
              {describeSyntaxError(form.configSyntaxError)}
            </p>
          ) : null}
          {form.configProblem ? <p className="field-error">{form.configProblem}</p> : null}
          <p className="muted small">
            It becomes a new config version of kind <code>migration</code>, checked against the new
            schema; secrets stay as they are.
          </p>
        </>
      ) : null}
    </div>
  );
}
