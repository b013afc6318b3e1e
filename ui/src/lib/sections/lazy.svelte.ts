import type Audit from './Audit.svelte';
import type Automation from './Automation.svelte';
import type Broadcasts from './Broadcasts.svelte';
import type Contacts from './Contacts.svelte';
import type Team from './Team.svelte';

export type LazySection = 'contacts' | 'team' | 'audit' | 'automation' | 'broadcasts';

/**
 * The sections the window does not need for its first screen, loaded when first opened
 * (and all of them shortly after the inbox is drawn), so the start-up script stays small.
 */
class LazySections {
  contacts = $state<typeof Contacts | null>(null);
  team = $state<typeof Team | null>(null);
  audit = $state<typeof Audit | null>(null);
  automation = $state<typeof Automation | null>(null);
  broadcasts = $state<typeof Broadcasts | null>(null);
  /** Why a section's code could not be loaded (shown instead of it). */
  failure = $state<string | null>(null);
  private asked = new Set<LazySection>();

  /** Loads `section`'s code once; a section that is not lazy is ignored. */
  load(section: string) {
    if (!isLazy(section) || this.asked.has(section)) return;
    this.asked.add(section);
    const loaded = (() => {
      switch (section) {
        case 'contacts':
          return import('./Contacts.svelte').then((m) => (this.contacts = m.default));
        case 'team':
          return import('./Team.svelte').then((m) => (this.team = m.default));
        case 'audit':
          return import('./Audit.svelte').then((m) => (this.audit = m.default));
        case 'automation':
          return import('./Automation.svelte').then((m) => (this.automation = m.default));
        case 'broadcasts':
          return import('./Broadcasts.svelte').then((m) => (this.broadcasts = m.default));
      }
    })();
    loaded.catch((raw: unknown) => {
      this.asked.delete(section);
      this.failure = raw instanceof Error ? raw.message : String(raw);
    });
  }

  /** Loads every lazy section (after the first screen, so switching is instant). */
  preload() {
    for (const section of LAZY) this.load(section);
  }
}

const LAZY: readonly LazySection[] = ['contacts', 'team', 'audit', 'automation', 'broadcasts'];

function isLazy(section: string): section is LazySection {
  return (LAZY as readonly string[]).includes(section);
}

export const lazySections = new LazySections();
