import { DockerApiError, VolumeNotFoundError } from '../errors.js';
import type { VolumeInfo, VolumeSpec } from './docker-client.js';
import { hasLabels } from './fake-docker-helpers.js';

/** Docker's rule for local volume names. */
const VALID_VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/**
 * FakeDocker's volumes, as Docker's `local` driver keeps them (measured on Docker 20.10): a create
 * of an existing name answers the volume as it is (its labels and options unchanged), another
 * driver is not found (404), and a volume that any container uses, running or not, cannot be removed.
 */
export class FakeVolumes {
  private readonly volumes = new Map<string, VolumeInfo>();

  /** `usedBy(name)` names the containers (IDs) that mount the volume. */
  constructor(private readonly usedBy: (name: string) => string[]) {}

  create(spec: VolumeSpec): VolumeInfo {
    const driver = spec.driver ?? 'local';
    if (driver !== 'local') {
      throw new DockerApiError('volume-create', 404, `create ${spec.name}: error looking up volume plugin ${driver}: plugin "${driver}" not found`);
    }
    if (!VALID_VOLUME_NAME.test(spec.name)) {
      throw new DockerApiError(
        'volume-create',
        400,
        `create ${spec.name}: "${spec.name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`,
      );
    }
    const existing = this.volumes.get(spec.name);
    if (existing) return copy(existing);
    const volume: VolumeInfo = {
      name: spec.name,
      driver,
      driverOpts: { ...(spec.driverOpts ?? {}) },
      labels: { ...(spec.labels ?? {}) },
      mountpoint: `/var/lib/docker/volumes/${spec.name}/_data`,
    };
    this.volumes.set(spec.name, volume);
    return copy(volume);
  }

  inspect(name: string): VolumeInfo {
    const volume = this.volumes.get(name);
    if (!volume) throw new VolumeNotFoundError(name);
    return copy(volume);
  }

  remove(name: string): void {
    if (!this.volumes.has(name)) return;
    const users = this.usedBy(name);
    if (users.length > 0) throw new DockerApiError('volume-remove', 409, `remove ${name}: volume is in use - [${users.join(', ')}]`);
    this.volumes.delete(name);
  }

  list(labels: Readonly<Record<string, string>>): VolumeInfo[] {
    return [...this.volumes.values()].filter((v) => hasLabels(v.labels, labels)).map(copy);
  }

  has(name: string): boolean {
    return this.volumes.has(name);
  }
}

function copy(volume: VolumeInfo): VolumeInfo {
  return { ...volume, driverOpts: { ...volume.driverOpts }, labels: { ...volume.labels } };
}
