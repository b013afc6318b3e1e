import { BackendError, type Backend } from '../backend';
import type { TeamDevices } from '../bindings/TeamDevices';
import type { TeamMember } from '../bindings/TeamMember';
import type { TeamSettings } from '../bindings/TeamSettings';
import type { TeamTemplate } from '../bindings/TeamTemplate';

/** One relay read with its loading and error state. */
export class Resource<T> {
  value = $state<T | null>(null);
  loading = $state(false);
  error = $state<BackendError | null>(null);
  private readonly read: () => Promise<T>;

  constructor(read: () => Promise<T>) {
    this.read = read;
  }

  async load() {
    this.loading = true;
    try {
      this.value = await this.read();
      this.error = null;
    } catch (raw) {
      this.error = BackendError.from(raw);
    } finally {
      this.loading = false;
    }
  }

  /** Loads once; later calls keep what is there. */
  ensure() {
    if (this.value === null && !this.loading) void this.load();
  }
}

/** What the Team section reads from the relay; each tab loads what it shows. */
export class TeamData {
  readonly members: Resource<TeamMember[]>;
  readonly devices: Resource<TeamDevices>;
  readonly templates: Resource<TeamTemplate[]>;
  readonly settings: Resource<TeamSettings>;

  constructor(backend: Backend) {
    this.members = new Resource(() => backend.teamMembers());
    this.devices = new Resource(() => backend.teamDevices());
    this.templates = new Resource(() => backend.teamTemplates());
    this.settings = new Resource(() => backend.teamSettings());
  }

  memberName(id: string | null | undefined): string | null {
    if (!id) return null;
    return this.members.value?.find((m) => m.id === id)?.name ?? null;
  }
}
