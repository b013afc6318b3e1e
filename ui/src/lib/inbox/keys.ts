/**
 * Whether a window-level single-key shortcut should act on `event`: no modifier, not typed
 * into a field, no modal dialog open.
 */
export function isShortcut(event: KeyboardEvent): boolean {
  if (event.altKey || event.ctrlKey || event.metaKey || event.defaultPrevented) return false;
  const target = event.target instanceof Element ? event.target : null;
  if (target?.closest('input, textarea, select, [contenteditable="true"]')) return false;
  if (typeof document !== 'undefined' && document.querySelector('[aria-modal="true"], dialog[open]')) return false;
  return true;
}
