/** Labels per team (the relay refuses more with `label_limit`). */
export const LABEL_LIMIT = 20;

/**
 * The colours offered for a new label, the relay's palette (crates/relay/src/labels.rs):
 * readable as chip backgrounds in both themes.
 */
export const LABEL_PALETTE = [
  '#0d9488',
  '#2563eb',
  '#7c3aed',
  '#db2777',
  '#ea580c',
  '#ca8a04',
  '#16a34a',
  '#475569',
] as const;
