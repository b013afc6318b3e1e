import type { Backend } from '../backend';
import type { MemberName } from '../bindings/MemberName';
import type { TeamDevice } from '../bindings/TeamDevice';
import { Resource } from '../team/team.svelte';

/** A short form of an id for when no name is known (`0190…d1`). */
export function shortId(id: string): string {
  return id.length > 12 ? `${id.slice(0, 4)}…${id.slice(-4)}` : id;
}

/**
 * Names of members and devices for the Audit section. The team's member list (deactivated
 * members too) needs ManageTeam; without it the active members' names are used. Devices
 * need ManageTeam as well; without it they are shown by id.
 */
export class Directory {
  readonly members: Resource<MemberName[]>;
  readonly devices: Resource<TeamDevice[]>;

  constructor(backend: Backend) {
    this.members = new Resource(async () => {
      try {
        return (await backend.teamMembers()).map(({ id, name }) => ({ id, name }));
      } catch {
        return backend.memberNames();
      }
    });
    this.devices = new Resource(async () => {
      try {
        return (await backend.teamDevices()).devices;
      } catch {
        return [];
      }
    });
  }

  ensure() {
    this.members.ensure();
    this.devices.ensure();
  }

  /** Reloads after a change that may rename members (an advisor fix). */
  async reload() {
    await Promise.all([this.members.load(), this.devices.load()]);
  }

  memberName(id: string): string {
    return this.members.value?.find((m) => m.id === id)?.name ?? shortId(id);
  }

  deviceName(id: string): string {
    return this.devices.value?.find((d) => d.id === id)?.name ?? shortId(id);
  }
}
