import type { InstanceView } from '@app/contracts';
import type { HealthReport } from './instance-status';

/**
 * The view after a report. An offline report keeps the versions, labels and run outcomes last
 * seen while the instance was up (the last will carries those of its CONNECT), and when it went
 * offline; a report without a rejection does not clear the last one, and an older rejection does
 * not replace it.
 */
export function mergeReport(
  before: InstanceView | undefined,
  report: HealthReport,
  seenAt: string,
): InstanceView {
  const offline = report.status === 'offline';
  const keep = offline && before !== undefined;
  return {
    service: report.service,
    instanceId: report.instanceId,
    status: report.status,
    appliedVersion: keep
      ? newest(before.appliedVersion, report.appliedVersion)
      : report.appliedVersion,
    stagedVersion: keep ? newest(before.stagedVersion, report.stagedVersion) : report.stagedVersion,
    lastRunVersion: keep
      ? newest(before.lastRunVersion, report.lastRunVersion)
      : report.lastRunVersion,
    schemaDrift: keep ? before.schemaDrift : report.schemaDrift,
    labels: keep ? before.labels : report.labels,
    runs: keep ? (before.runs ?? report.runs) : report.runs,
    lastRun: keep ? (before.lastRun ?? report.lastRun) : report.lastRun,
    stale: keep ? before.stale : report.stale,
    attestedAt: keep ? (before.attestedAt ?? report.attestedAt) : report.attestedAt,
    lastRejection: newerRejection(before?.lastRejection ?? null, report.lastRejection),
    lastSeen: seenAt,
    offlineSince: offline ? (before?.offlineSince ?? seenAt) : null,
  };
}

function newest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

function newerRejection(
  before: InstanceView['lastRejection'],
  reported: InstanceView['lastRejection'],
): InstanceView['lastRejection'] {
  if (reported === null) return before;
  if (before === null) return reported;
  return reported.at >= before.at ? reported : before;
}
