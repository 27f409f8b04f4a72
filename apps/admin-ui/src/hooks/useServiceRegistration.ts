// The registration form's state and request: a new service, or a new schema for one registered
// over the API. The schema is parsed and pre-checked as it is typed (or uploaded); the PUT's
// refusals are placed at the inputs they name; a 409 (the current config does not fit) opens
// the config to move to, prefilled with the current one.
import { useMemo, useState } from 'react';
import { reasonHeaders, reasonProblem } from '../api/change-reason';
import { ApiError } from '../api/client';
import { endpoints } from '../api/endpoints';
import {
  isConfigConflict,
  noErrors,
  placeRegistrationErrors,
  type PlacedErrors,
  type RegistrationField,
} from '../api/registration-errors';
import type {
  ConfigObject,
  JsonSchema,
  ServiceRegistration,
  ServiceRegistrationRequest,
} from '../api/types';
import { isJsonObject, parseJsonText } from '../schema/json-text';
import { precheckSchema, serviceNameProblem } from '../schema/schema-precheck';
import { useSession } from '../session';

/** Larger files are refused before reading: a schema is at most 160 KiB as canonical JSON. */
const MAX_FILE_BYTES = 1024 * 1024;

export interface RegistrationInput {
  /** Changing the schema of this service (its name fixed); registering a new one when absent. */
  service?: string;
  /** What the form starts from when changing a schema. */
  initial?: { schema: JsonSchema; description: string; config: ConfigObject };
  onRegistered: (registration: ServiceRegistration) => void;
}

export function useServiceRegistration({ service, initial, onRegistered }: RegistrationInput) {
  const { api, can } = useSession();
  const [name, setName] = useState(service ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  const [schemaText, setSchemaText] = useState(
    initial ? JSON.stringify(initial.schema, null, 2) : '',
  );
  const [recipientKey, setRecipientKey] = useState('');
  const [reason, setReason] = useState('');
  const [sendConfig, setSendConfig] = useState(false);
  const [configText, setConfigText] = useState(
    initial ? JSON.stringify(initial.config, null, 2) : '',
  );
  const [fileStatus, setFileStatus] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [errors, setErrors] = useState<PlacedErrors>(noErrors);
  const [conflict, setConflict] = useState(false);

  const parsed = useMemo(() => parseJsonText(schemaText), [schemaText]);
  const precheck = useMemo(() => (parsed.ok ? precheckSchema(parsed.value) : undefined), [parsed]);
  const parsedConfig = useMemo(() => parseJsonText(configText), [configText]);
  const configProblem =
    !sendConfig || !parsedConfig.ok || isJsonObject(parsedConfig.value)
      ? undefined
      : 'the config must be a JSON object';
  const nameProblem = name === '' ? undefined : serviceNameProblem(name);
  const reasonError = reasonProblem(reason);
  /** The schema as a document the form can be built from, once it parses as an object. */
  const document: JsonSchema | undefined =
    parsed.ok && isJsonObject(parsed.value) ? parsed.value : undefined;

  /** The admin changed an input: what the manager said about it no longer applies. */
  const edited = (field: RegistrationField) => {
    setErrors((current) => ({ ...current, [field]: [], form: [] }));
  };

  const loadFile = async (file: File | undefined) => {
    if (file === undefined) return;
    if (file.size > MAX_FILE_BYTES) {
      setFileStatus(`${file.name} is ${file.size} bytes: a schema file is at most 1 MiB`);
      return;
    }
    setSchemaText(await file.text());
    setFileStatus(`Loaded ${file.name} (${file.size} bytes).`);
    edited('schema');
  };

  const canSubmit =
    can('admin') &&
    !busy &&
    name !== '' &&
    nameProblem === undefined &&
    document !== undefined &&
    precheck?.problems.length === 0 &&
    reasonError === undefined &&
    (!sendConfig || (parsedConfig.ok && configProblem === undefined));

  const submit = async () => {
    if (!canSubmit || document === undefined) return;
    const body: ServiceRegistrationRequest = {
      schema: document,
      description: description.trim(),
      ...(recipientKey.trim() === '' ? {} : { recipientKey: recipientKey.trim() }),
      ...(sendConfig && parsedConfig.ok ? { config: parsedConfig.value as ConfigObject } : {}),
    };
    setBusy(true);
    setErrors(noErrors());
    try {
      const { data } = await api.request<ServiceRegistration>('PUT', endpoints.registration(name), {
        body,
        headers: reasonHeaders(reason),
      });
      setConflict(false);
      onRegistered(data);
    } catch (caught) {
      if (!(caught instanceof ApiError)) throw caught;
      setErrors(placeRegistrationErrors(caught, sendConfig));
      if (isConfigConflict(caught)) {
        setConflict(true);
        setSendConfig(true);
      }
    } finally {
      setBusy(false);
    }
  };

  return {
    /** Registering and changing schemas need the admin role. */
    allowed: can('admin'),
    editing: service !== undefined,
    name,
    setName: (value: string) => {
      setName(value);
      edited('service');
    },
    nameProblem,
    description,
    setDescription: (value: string) => {
      setDescription(value);
      edited('description');
    },
    schemaText,
    setSchemaText: (value: string) => {
      setSchemaText(value);
      setFileStatus(undefined);
      edited('schema');
    },
    loadFile,
    fileStatus,
    /** The schema text's JSON syntax error, if any (none while it is empty). */
    syntaxError: parsed.ok || schemaText.trim() === '' ? undefined : parsed.error,
    /** The schema as an object, for the preview; undefined while it does not parse. */
    document,
    /** What the page found in the schema before sending it. */
    precheck,
    recipientKey,
    setRecipientKey: (value: string) => {
      setRecipientKey(value);
      edited('recipientKey');
    },
    reason,
    setReason,
    reasonError,
    sendConfig,
    setSendConfig,
    configText,
    setConfigText: (value: string) => {
      setConfigText(value);
      edited('config');
    },
    configSyntaxError: sendConfig && !parsedConfig.ok ? parsedConfig.error : undefined,
    configProblem,
    /** The last PUT answered 409: the current config does not fit the new schema. */
    conflict,
    /** The manager's refusal of the last PUT, by input. */
    errors,
    busy,
    canSubmit,
    submit,
  };
}
