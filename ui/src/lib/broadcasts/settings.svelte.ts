import { BackendError, type Backend } from '../backend';
import type { DayStats } from '../bindings/BroadcastDay';
import type { Pacing } from '../bindings/BroadcastPacing';
import type { BroadcastSettings } from '../bindings/BroadcastSettings';

/** The pacing fields as the form holds them (an empty or invalid number input holds undefined). */
export type PacingForm = { dailyCap: number | null | undefined; failurePercent: number | null | undefined; intervalSecs: number | null | undefined; optOut: string[] };

function formOf(p: Pacing): PacingForm {
  return {
    dailyCap: p.daily_cap,
    failurePercent: p.max_failure_percent,
    intervalSecs: p.interval_secs,
    optOut: [...p.opt_out_keywords],
  };
}

export type PacingProblem = 'dailyCap' | 'failurePercent' | 'intervalSecs' | 'optOut';

const whole = (n: number | null | undefined, min: number, max: number) => n != null && Number.isInteger(n) && n >= min && n <= max;

export function pacingProblems(f: PacingForm): PacingProblem[] {
  const out: PacingProblem[] = [];
  if (!whole(f.dailyCap, 1, 100_000)) out.push('dailyCap');
  if (f.failurePercent == null || !(f.failurePercent > 0 && f.failurePercent <= 100)) out.push('failurePercent');
  if (!whole(f.intervalSecs, 0, 3600)) out.push('intervalSecs');
  if (f.optOut.filter((w) => w.trim() !== '').length === 0) out.push('optOut');
  return out;
}

function pacingOf(f: PacingForm): Pacing {
  return {
    daily_cap: f.dailyCap ?? 0,
    max_failure_percent: f.failurePercent ?? 0,
    interval_secs: f.intervalSecs ?? 0,
    opt_out_keywords: f.optOut.map((w) => w.trim()).filter((w) => w !== ''),
  };
}

/** A past day's share of failed and blocked sends, in percent (0 without sends). */
export function failureShare(d: DayStats): number {
  return d.attempted === 0 ? 0 : ((d.failed + d.blocked) * 100) / d.attempted;
}

/** Whether a day halved the next day's cap (more than the limit failed or was blocked). */
export function badDay(d: DayStats, limitPercent: number): boolean {
  return d.attempted > 0 && failureShare(d) > limitPercent;
}

/** The broadcast settings block: the saved settings, the form over them, save. */
export class BroadcastSettingsForm {
  settings = $state<BroadcastSettings | null>(null);
  form = $state<PacingForm | null>(null);
  loadError = $state<BackendError | null>(null);
  saving = $state(false);
  saveError = $state<BackendError | null>(null);
  justSaved = $state(false);
  tried = $state(false);
  private readonly backend: Backend;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  get dirty(): boolean {
    if (!this.settings || !this.form) return false;
    return JSON.stringify(formOf(this.settings.pacing)) !== JSON.stringify($state.snapshot(this.form));
  }

  async load() {
    this.loadError = null;
    try {
      this.adopt(await this.backend.broadcastSettings());
    } catch (raw) {
      this.loadError = BackendError.from(raw);
    }
  }

  private adopt(s: BroadcastSettings) {
    this.settings = s;
    this.form = formOf(s.pacing);
  }

  async save(): Promise<boolean> {
    this.tried = true;
    if (!this.form || this.saving || pacingProblems(this.form).length > 0) return false;
    this.saving = true;
    this.saveError = null;
    this.justSaved = false;
    try {
      this.adopt(await this.backend.saveBroadcastSettings(pacingOf($state.snapshot(this.form) as PacingForm)));
      this.justSaved = true;
      this.tried = false;
      return true;
    } catch (raw) {
      this.saveError = BackendError.from(raw);
      return false;
    } finally {
      this.saving = false;
    }
  }

  revert() {
    if (this.settings) this.form = formOf(this.settings.pacing);
    this.tried = false;
    this.saveError = null;
  }
}
