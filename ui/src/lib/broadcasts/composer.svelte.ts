import { BackendError, type Backend } from '../backend';
import type { BroadcastDraft } from '../bindings/BroadcastDraft';
import type { BroadcastPreview } from '../bindings/BroadcastPreview';
import type { BroadcastSummary } from '../bindings/BroadcastSummary';
import type { LabelChip } from '../bindings/LabelChip';
import type { MessageTemplate } from '../bindings/MessageTemplate';
import { emptyForm, formProblems, paramsFor, templateKey, toDraft, uuidv7, type DraftForm } from './model';

/**
 * The composer: the form, the team's labels and approved templates to pick from, the
 * preview the relay makes of the exact draft, and the create call. The draft that was
 * previewed is the one sent; editing the form after a preview asks for a new one. One
 * idempotency key per previewed draft, so a retried "Send" never makes two broadcasts.
 */
export class BroadcastComposer {
  form = $state<DraftForm>(emptyForm());
  labels = $state<LabelChip[] | null>(null);
  templates = $state<MessageTemplate[] | null>(null);
  templatesStale = $state(false);
  listError = $state<BackendError | null>(null);
  /** Show the form's problems (after a first attempt to preview). */
  tried = $state(false);
  step = $state<'compose' | 'preview'>('compose');
  previewing = $state(false);
  preview = $state<BroadcastPreview | null>(null);
  /** The draft `preview` describes. */
  previewed = $state<BroadcastDraft | null>(null);
  previewError = $state<BackendError | null>(null);
  creating = $state(false);
  createError = $state<BackendError | null>(null);
  private key = $state(uuidv7());
  readonly template = $derived(this.templates?.find((t) => templateKey(t) === this.form.template) ?? null);
  private readonly backend: Backend;
  private readonly zone: () => string;

  constructor(backend: Backend, zone: () => string) {
    this.backend = backend;
    this.zone = zone;
  }

  problems(now = Date.now()) {
    return formProblems(this.form, this.template, this.zone(), now);
  }

  /** Reads the labels and templates to choose from (`refresh`: the relay asks Meta again). */
  async loadChoices(refresh = false) {
    this.listError = null;
    try {
      const [labels, templates] = await Promise.all([this.backend.labels(), this.backend.messageTemplates(refresh)]);
      this.labels = [...labels].sort((a, b) => a.name.localeCompare(b.name));
      this.templates = templates.templates;
      this.templatesStale = templates.stale;
    } catch (raw) {
      this.listError = BackendError.from(raw);
    }
  }

  chooseTemplate(key: string) {
    this.form.template = key;
    const params = paramsFor(this.template);
    this.form.header = params.header;
    this.form.body = params.body;
  }

  /** Asks the relay who the draft reaches and what they read; moves to the preview step. */
  async runPreview(): Promise<boolean> {
    this.tried = true;
    const t = this.template;
    if (this.problems().length > 0 || !t || this.previewing) return false;
    const draft = toDraft($state.snapshot(this.form) as DraftForm, t, this.zone());
    this.previewing = true;
    this.previewError = null;
    try {
      this.preview = await this.backend.previewBroadcast(draft);
      this.previewed = draft;
      this.key = uuidv7();
      this.createError = null;
      this.step = 'preview';
      return true;
    } catch (raw) {
      this.previewError = BackendError.from(raw);
      return false;
    } finally {
      this.previewing = false;
    }
  }

  /** Whether the preview allows sending: no problems and someone left to receive it. */
  get sendable(): boolean {
    const p = this.preview;
    return p !== null && p.problems.length === 0 && p.total - p.opted_out > 0;
  }

  back() {
    this.step = 'compose';
    this.createError = null;
  }

  /** Creates the previewed broadcast; resolves to it (null on failure, see `createError`). */
  async create(): Promise<BroadcastSummary | null> {
    const draft = this.previewed;
    if (!draft || !this.sendable || this.creating) return null;
    this.creating = true;
    this.createError = null;
    try {
      return await this.backend.createBroadcast(this.key, $state.snapshot(draft) as BroadcastDraft);
    } catch (raw) {
      this.createError = BackendError.from(raw);
      return null;
    } finally {
      this.creating = false;
    }
  }

  /** A fresh form for the next broadcast. */
  reset() {
    this.form = emptyForm();
    this.tried = false;
    this.step = 'compose';
    this.preview = null;
    this.previewed = null;
    this.previewError = null;
    this.createError = null;
    this.key = uuidv7();
  }
}
