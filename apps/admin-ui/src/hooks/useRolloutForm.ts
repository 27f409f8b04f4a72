// The rollout form's state and request: the strategy as typed (from a preset, then edited), its
// checks as the manager makes them, POST …/rollouts, and the manager's refusals at their inputs.
import { useEffect, useMemo, useState } from 'react';
import { ApiError } from '../api/client';
import { endpoints } from '../api/endpoints';
import type { RolloutRequest, RolloutView } from '../api/types';
import {
  checkStrategy,
  draftOf,
  emptyStep,
  firstSlot,
  placeServerErrors,
  slotId,
  slots,
  type StepDraft,
  type StrategyDraft,
  type StrategyErrors,
} from '../rollouts/strategy-form';
import { DEFAULT_PRESET, STRATEGY_PRESETS } from '../rollouts/strategy-presets';
import { useSession } from '../session';

/** The id of the preset the steps came from, or `custom` once they were edited. */
type PresetChoice = string;

export function useRolloutForm(
  service: string,
  version: number,
  onStarted: (rollout: RolloutView) => void,
) {
  const { api, can } = useSession();
  const [preset, setPreset] = useState<PresetChoice>(DEFAULT_PRESET.id);
  const [draft, setDraft] = useState<StrategyDraft>(() => draftOf(DEFAULT_PRESET.strategy));
  const [serverErrors, setServerErrors] = useState<StrategyErrors>({});
  const [busy, setBusy] = useState(false);
  // Bumped to move focus to the first problem once it is rendered (and the inputs enabled again).
  const [focusRequest, setFocusRequest] = useState(0);

  const checked = useMemo(() => checkStrategy(draft), [draft]);
  const errors = { ...serverErrors, ...checked.errors };

  /** Applies an edit; the problems the manager named there (and on the list or form) go. */
  const edit = (next: StrategyDraft, slot?: string) => {
    setDraft(next);
    setPreset('custom');
    setServerErrors((current) => {
      const kept = { ...current };
      for (const key of [slot, slots.steps, '']) if (key !== undefined) delete kept[key];
      return kept;
    });
  };

  const choosePreset = (id: string) => {
    const found = STRATEGY_PRESETS.find((candidate) => candidate.id === id);
    if (found === undefined) return;
    setDraft(draftOf(found.strategy));
    setPreset(id);
    setServerErrors({});
  };

  const changeStep = (index: number, fields: Partial<StepDraft>, slot: string) =>
    edit(
      { ...draft, steps: draft.steps.map((s, i) => (i === index ? { ...s, ...fields } : s)) },
      slot,
    );

  // The server's problems are keyed by step index: removing or adding a step moves them, so
  // they are dropped rather than left at the wrong step.
  const restructure = (steps: StepDraft[]) => {
    edit({ ...draft, steps });
    setServerErrors({});
  };

  useEffect(() => {
    if (focusRequest === 0) return;
    const slot = firstSlot(errors, draft.steps.length);
    if (slot !== undefined) document.getElementById(slotId(slot))?.focus();
    // Only a new request moves focus, not later edits.
  }, [focusRequest]);

  const submit = async () => {
    if (checked.strategy === undefined) {
      setFocusRequest((n) => n + 1);
      return;
    }
    setBusy(true);
    setServerErrors({});
    try {
      const body: RolloutRequest = { version, strategy: checked.strategy };
      const { data } = await api.request<RolloutView>('POST', endpoints.rollouts(service), {
        body,
      });
      onStarted(data);
    } catch (caught) {
      if (!(caught instanceof ApiError)) throw caught;
      const placed = placeServerErrors(
        caught.body?.details ?? [],
        caught.message,
        draft.steps.length,
      );
      setServerErrors(placed);
      setFocusRequest((n) => n + 1);
    } finally {
      setBusy(false);
    }
  };

  return {
    allowed: can('config:write'),
    preset,
    choosePreset,
    draft,
    errors,
    busy,
    changeStep,
    /** A new step goes before the last one, which has to reach everyone. */
    addStep: () =>
      restructure(
        draft.steps.length === 0
          ? [emptyStep('all')]
          : [...draft.steps.slice(0, -1), emptyStep('percent'), ...draft.steps.slice(-1)],
      ),
    removeStep: (index: number) => restructure(draft.steps.filter((_, i) => i !== index)),
    setAckTimeout: (text: string) => edit({ ...draft, ackTimeoutSeconds: text }, slots.ackTimeout),
    setMaxFailedRuns: (text: string) =>
      edit({ ...draft, maxFailedRuns: text }, slots.maxFailedRuns),
    submit,
  };
}
