import { BackendError, type Backend } from '../backend';
import type { AgentSettings } from '../bindings/AgentSettings';
import type { AutomationSettings } from '../bindings/AutomationSettings';
import type { AutomationView } from '../bindings/AutomationView';
import type { MemberName } from '../bindings/MemberName';
import type { Names } from './describe';
import { fingerprint, ruleProblems, sortedRules, type RuleProblem } from './model';

/** The part of the view the section edits and saves as one document. */
export type AutomationDraft = {
  enabled: boolean;
  settings: AutomationSettings;
  agents: Record<string, AgentSettings>;
};

function draftOf(view: AutomationView): AutomationDraft {
  const copy = structuredClone($state.snapshot(view)) as AutomationView;
  copy.settings.rules = sortedRules(copy.settings.rules);
  return { enabled: copy.enabled, settings: copy.settings, agents: copy.agents };
}

/**
 * The Automation section's document: what the relay has (`view`), the copy being edited
 * (`draft`), whether they differ, and the save with its outcome. Everything is saved at
 * once with the revision it was read at, so a colleague's save is never overwritten.
 */
export class AutomationEditor {
  view = $state<AutomationView | null>(null);
  draft = $state<AutomationDraft | null>(null);
  loading = $state(false);
  loadError = $state<BackendError | null>(null);
  saving = $state(false);
  saveError = $state<BackendError | null>(null);
  /** A rule that blocked the last save, and what is wrong with it. */
  invalidRule = $state<{ name: string; problems: RuleProblem[] } | null>(null);
  /** Set after a save succeeded, until the next edit. */
  justSaved = $state(false);
  names = $state<MemberName[]>([]);
  private savedPrint = $state('');
  readonly dirty = $derived(this.draft !== null && fingerprint(this.draft) !== this.savedPrint);
  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  private adopt(view: AutomationView) {
    this.view = view;
    const draft = draftOf(view);
    this.savedPrint = fingerprint(draft);
    this.draft = draft;
  }

  /** Reads the settings (and member names for the editors); discards unsaved edits. */
  async load() {
    this.loading = true;
    this.loadError = null;
    this.saveError = null;
    this.invalidRule = null;
    this.justSaved = false;
    try {
      const view = await this.backend.automation();
      this.adopt(view);
    } catch (raw) {
      this.loadError = BackendError.from(raw);
    } finally {
      this.loading = false;
    }
    try {
      this.names = await this.backend.memberNames();
    } catch {
      // Names only make ids readable; the editor works without them.
    }
  }

  async save(): Promise<boolean> {
    if (!this.draft || !this.view || this.saving) return false;
    this.saving = true;
    this.saveError = null;
    this.justSaved = false;
    const draft = $state.snapshot(this.draft) as AutomationDraft;
    // A rule the relay would refuse (or that would do nothing useful) is caught here, by
    // name, rather than as the relay's terser reason. Disabled rules are not compiled there.
    const broken = draft.settings.rules.find((r) => (r.enabled || r.name.trim() === '') && ruleProblems(r).length > 0);
    if (broken) {
      this.saving = false;
      this.invalidRule = { name: broken.name.trim() || broken.id, problems: ruleProblems(broken) };
      return false;
    }
    this.invalidRule = null;
    try {
      const view = await this.backend.saveAutomation(draft.enabled, draft.settings, draft.agents, this.view.revision);
      this.adopt(view);
      this.justSaved = true;
      return true;
    } catch (raw) {
      this.saveError = BackendError.from(raw);
      return false;
    } finally {
      this.saving = false;
    }
  }

  /** Back to what the relay has. */
  discard() {
    if (this.view) this.adopt(this.view);
    this.saveError = null;
    this.invalidRule = null;
  }

  /** The settings as edited, for the dry run. */
  settingsSnapshot(): AutomationSettings | null {
    return this.draft ? ($state.snapshot(this.draft.settings) as AutomationSettings) : null;
  }

  /** Ids as names: teams by their name, members by the team directory. */
  readonly labels: Names = {
    team: (id) => this.view?.teams.find((t) => t.id === id)?.name ?? id,
    member: (id) => this.names.find((n) => n.id === id)?.name ?? id,
  };
}
