import type { ConfigIssue } from '@app/contracts';
import { DomainError, ErrorCode } from '../common/domain-error';

const MAX_ISSUES_IN_MESSAGE = 5;

/** 400: the config a request asked for does not validate. */
export function validationError(issues: ConfigIssue[]): DomainError {
  return new DomainError(
    ErrorCode.ValidationFailed,
    `Invalid configuration: ${issueList(issues)}`,
    issues,
  );
}

/** 409: a config that was valid does not fit the schema it would now be validated under. */
export function schemaConflict(what: string, issues: ConfigIssue[]): DomainError {
  return new DomainError(ErrorCode.SchemaConflict, `${what}: ${issueList(issues)}`, issues);
}

function issueList(issues: ConfigIssue[]): string {
  const shown = issues.slice(0, MAX_ISSUES_IN_MESSAGE).map((i) => i.message);
  const more =
    issues.length > MAX_ISSUES_IN_MESSAGE
      ? ` (and ${issues.length - MAX_ISSUES_IN_MESSAGE} more)`
      : '';
  return `${shown.join('; ')}${more}`;
}
