import type { PortBinding } from '../api/task.js';
import { ContainerNotFoundError } from '../errors.js';
import type { ContainerInfo, ContainerSpec, DockerContainerState, DockerHealth } from './docker-client.js';
import { hasLabels, networksOf } from './fake-docker-helpers.js';

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

/** A full container ID's length: a ref this long can only be a whole ID, never a prefix of another. */
const ID_LENGTH = 64;

/**
 * The fake's containers by ID, found the way Docker finds them, with indexes so that a lookup by
 * name, a label filter, or "which containers use this image / volume" costs what it finds, not
 * the number of containers held: benchmarks hold tens of thousands, and a linear fake would make
 * them measure itself. `work` counts the containers each lookup looks at, for the growth test.
 */
export class FakeContainerTable extends Map<string, FakeContainer> {
  private readonly byName = new Map<string, FakeContainer>();
  /** `key=value` → the containers with that label, in creation order (as Docker lists them). */
  private readonly byLabel = new Map<string, Set<FakeContainer>>();
  private readonly byImage = new Map<string, Set<FakeContainer>>();
  private readonly byVolume = new Map<string, Set<FakeContainer>>();
  /** Containers looked at by lookups and filters since the table was made. */
  work = 0;

  override set(id: string, c: FakeContainer): this {
    this.delete(id);
    super.set(id, c);
    this.byName.set(c.name, c);
    for (const [key, value] of Object.entries(c.spec.labels)) addTo(this.byLabel, labelKey(key, value), c);
    addTo(this.byImage, c.imageId, c);
    for (const volume of volumesOf(c)) addTo(this.byVolume, volume, c);
    return this;
  }

  override delete(id: string): boolean {
    const c = this.get(id);
    if (!c) return false;
    super.delete(id);
    this.byName.delete(c.name);
    for (const [key, value] of Object.entries(c.spec.labels)) removeFrom(this.byLabel, labelKey(key, value), c);
    removeFrom(this.byImage, c.imageId, c);
    for (const volume of volumesOf(c)) removeFrom(this.byVolume, volume, c);
    return true;
  }

  override clear(): void {
    for (const id of [...this.keys()]) this.delete(id);
  }

  /** Docker's lookup order: full ID, then name, then unique ID prefix. */
  find(ref: string): FakeContainer | undefined {
    this.work++;
    const byId = this.get(ref);
    if (byId) return byId;
    const byName = this.byName.get(ref.replace(/^\//, ''));
    if (byName) return byName;
    // Only a short hex ref is looked for by prefix (a test's or an operator's), never the engine's full IDs.
    if (ref.length >= ID_LENGTH || !/^[0-9a-f]+$/.test(ref)) return undefined;
    let found: FakeContainer | undefined;
    for (const c of this.values()) {
      this.work++;
      if (!c.id.startsWith(ref)) continue;
      if (found) return undefined;
      found = c;
    }
    return found;
  }

  /** The container with exactly this name (without its leading slash). */
  named(name: string): FakeContainer | undefined {
    this.work++;
    return this.byName.get(name);
  }

  mustFind(ref: string): FakeContainer {
    const c = this.find(ref);
    if (!c) throw new ContainerNotFoundError(ref);
    return c;
  }

  /** The containers with every one of these labels, in creation order; looks only at those with the rarest one. */
  withLabels(labels: Readonly<Record<string, string>>): FakeContainer[] {
    const entries = Object.entries(labels);
    let candidates: Iterable<FakeContainer> = this.values();
    let smallest = this.size;
    for (const [key, value] of entries) {
      const set = this.byLabel.get(labelKey(key, value));
      if (!set) return [];
      if (set.size < smallest) {
        candidates = set;
        smallest = set.size;
      }
    }
    const found: FakeContainer[] = [];
    for (const c of candidates) {
      this.work++;
      if (hasLabels(c.spec.labels, labels)) found.push(c);
    }
    return found;
  }

  usesImage(imageId: string): boolean {
    return (this.byImage.get(imageId)?.size ?? 0) > 0;
  }

  /** IDs of the containers that mount the volume, in creation order. */
  usingVolume(name: string): string[] {
    return [...(this.byVolume.get(name) ?? [])].map((c) => c.id);
  }
}

function labelKey(key: string, value: string): string {
  // NUL cannot be in a label key, so no two pairs share a key.
  return `${key}\u0000${value}`;
}

function volumesOf(c: FakeContainer): Set<string> {
  return new Set((c.spec.mounts ?? []).filter((m) => m.type === 'volume').map((m) => m.source));
}

function addTo<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (set) set.add(value);
  else index.set(key, new Set([value]));
}

function removeFrom<K, V>(index: Map<K, Set<V>>, key: K, value: V): void {
  const set = index.get(key);
  if (!set) return;
  set.delete(value);
  if (set.size === 0) index.delete(key);
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
