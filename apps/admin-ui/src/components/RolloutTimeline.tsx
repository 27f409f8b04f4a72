// A rollout's timeline: every transition, oldest first, with who or what caused it.
import type { RolloutEvent } from '../api/types';
import { formatTime } from '../format';
import { describeTrigger, stateLabel } from '../rollouts/rollout-text';

export function RolloutTimeline({ events }: { events: readonly RolloutEvent[] }) {
  if (events.length === 0) return <p className="muted">Nothing happened yet.</p>;
  return (
    <ol className="timeline" data-testid="rollout-timeline">
      {events.map((event, index) => (
        <li key={`${event.at}:${index}`}>
          <time dateTime={event.at} className="muted small">
            {formatTime(event.at)}
          </time>{' '}
          <strong>{stateLabel(event.state)}</strong>
          {event.step > 0 ? ` (step ${event.step})` : ''} by {describeTrigger(event.by)}
          {event.message ? <div>{event.message}</div> : null}
        </li>
      ))}
    </ol>
  );
}
