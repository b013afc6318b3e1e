export const THEMES = ['system', 'light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];

const STORAGE_KEY = 'teamline.theme';

function stored(): Theme {
  const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
  return (THEMES as readonly string[]).includes(saved ?? '') ? (saved as Theme) : 'system';
}

const darkQuery = globalThis.matchMedia?.('(prefers-color-scheme: dark)');

class ThemeChoice {
  current = $state<Theme>(stored());
  private systemDark = $state(darkQuery?.matches ?? false);
  /** The palette in use: `system` resolved through the OS preference. */
  applied = $derived<'light' | 'dark'>(
    this.current === 'system' ? (this.systemDark ? 'dark' : 'light') : this.current,
  );

  constructor() {
    darkQuery?.addEventListener('change', (event) => (this.systemDark = event.matches));
  }

  choose(theme: Theme) {
    this.current = theme;
    globalThis.localStorage?.setItem(STORAGE_KEY, theme);
  }
}

/** Light, dark, or whatever the OS prefers; App applies it as `data-theme` on <html>. */
export const theme = new ThemeChoice();
