// How form nodes appear in the page: their DOM ids (targets of search links) and their labels.

/** The DOM id of a field's input or a group's heading (also the target of search links). */
export function fieldId(path: string): string {
  return `field-${path.replaceAll('.', '--')}`;
}

/** A schema key as a label: `max_distance_km` → `Max distance km`. */
export function nodeLabel(name: string): string {
  const words = name.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
