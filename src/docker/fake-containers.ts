import type { PortBinding } from '../api/task.js';
import { ContainerNotFoundError } from '../errors.js';
import type { ContainerInfo, ContainerSpec, DockerContainerState, DockerHealth } from './docker-client.js';
import { networksOf } from './fake-docker-helpers.js';

/** One container as the fake Docker keeps it. */
export interface FakeContainer {
  readonly id: string;
  readonly name: string;
  readonly spec: ContainerSpec;
  readonly imageId: string;
  state: DockerContainerState;
  exitCode?: number;
  oomKilled: boolean;
  portBindings: PortBinding[];
  health?: DockerHealth;
  pid?: number;
  ipAddress?: string;
  /** Networks connected (an address, given while running) or disconnected (null) after create. */
  readonly networkChanges: Map<string, { readonly ipAddress?: string } | null>;
  readonly createdAt: number;
  startedAt?: number;
  finishedAt?: number;
}

/** The fake's containers by ID, found the way Docker finds them. */
export class FakeContainerTable extends Map<string, FakeContainer> {
  /** Docker's lookup order: full ID, then name, then unique ID prefix. */
  find(ref: string): FakeContainer | undefined {
    const byId = this.get(ref);
    if (byId) return byId;
    const name = ref.replace(/^\//, '');
    const all = [...this.values()];
    const byName = all.find((c) => c.name === name);
    if (byName) return byName;
    const byPrefix = /^[0-9a-f]+$/.test(ref) ? all.filter((c) => c.id.startsWith(ref)) : [];
    return byPrefix.length === 1 ? byPrefix[0] : undefined;
  }

  mustFind(ref: string): FakeContainer {
    const c = this.find(ref);
    if (!c) throw new ContainerNotFoundError(ref);
    return c;
  }
}

/** What inspect shows: the network mode's network, then what was connected or disconnected since. */
export function networksNow(c: FakeContainer): Pick<ContainerInfo, 'networks'> {
  const running = c.state === 'running';
  const base = networksOf(c.spec, running ? c.ipAddress : undefined);
  if (c.networkChanges.size === 0) return base;
  const networks: Record<string, { ipAddress?: string }> = { ...base.networks };
  for (const [name, attachment] of c.networkChanges) {
    if (attachment === null) delete networks[name];
    else networks[name] = running && attachment.ipAddress ? { ipAddress: attachment.ipAddress } : {};
  }
  return { networks };
}
