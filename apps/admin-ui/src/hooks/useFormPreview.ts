// The form a schema will produce, to try before registering it: the schema's defaults as the
// draft, edits and checks as in the config editor, nothing ever sent.
import { useMemo, useState } from 'react';
import type { ConfigObject, JsonSchema } from '../api/types';
import { changedPaths, setAt } from '../schema/config-edits';
import { checkConfig } from '../schema/form-checks';
import { buildForm, formDefaults, secretPathsOf } from '../schema/form-model';

/** Mount it afresh (a React key) for each schema: the draft starts from that schema's defaults. */
export function useFormPreview(schema: JsonSchema) {
  const form = useMemo(() => buildForm(schema), [schema]);
  const defaults = useMemo(() => formDefaults(schema), [schema]);
  const [draft, setDraft] = useState<ConfigObject>(defaults);
  const [texts, setTexts] = useState<Record<string, string>>({});
  const changed = useMemo(
    () => new Set(changedPaths(form, defaults, draft)),
    [form, defaults, draft],
  );
  return {
    form,
    draft,
    texts,
    errors: checkConfig(form, draft),
    changed,
    secretPaths: secretPathsOf(schema),
    change: (path: string, value: unknown, text?: string) => {
      setDraft((current) => setAt(current, path, value));
      setTexts((current) => {
        const next = { ...current };
        if (text === undefined) delete next[path];
        else next[path] = text;
        return next;
      });
    },
    reset: () => {
      setDraft(defaults);
      setTexts({});
    },
  };
}
