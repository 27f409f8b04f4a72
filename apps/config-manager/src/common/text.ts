/** An attacker-chosen name, cut for an error message. */
export function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 80)}…` : value;
}
