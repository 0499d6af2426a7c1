// How Docker checks the containers a container refers to, as FakeDocker reproduces it. Measured on
// Docker 20.10: what is checked at create and what at start, and the words Docker answers with.
import { ContainerReferenceError, DockerApiError } from '../errors.js';
import type { ContainerSpec, DockerContainerState } from './docker-client.js';

export interface ReferencedContainer {
  readonly id: string;
  readonly name: string;
  readonly state: DockerContainerState;
  /** The donor's own IPC mode, for containers that join it. */
  readonly ipcMode?: string;
}

/** Finds a container by ID, name or unique ID prefix, as Docker does. */
export type FindContainer = (ref: string) => ReferencedContainer | undefined;

function containerMode(mode: string | undefined): string | undefined {
  return mode?.startsWith('container:') ? mode.slice('container:'.length) : undefined;
}

function splitLink(link: string): { target: string; alias: string } {
  const [target, alias] = link.split(':', 2);
  return { target: target!.replace(/^\//, ''), alias: (alias ?? target!).replace(/^\//, '') };
}

/** Missing containers that Docker refuses at create: volumesFrom, links, PID and IPC modes (not the network mode). */
export function checkReferencesAtCreate(spec: ContainerSpec, find: FindContainer): void {
  const missing = (ref: string): boolean => find(ref) === undefined;
  for (const { container } of spec.volumesFrom ?? []) {
    if (missing(container)) throw new ContainerReferenceError('create', `No such container: ${container}`);
  }
  for (const link of spec.links ?? []) {
    const { target } = splitLink(link);
    if (missing(target)) throw new ContainerReferenceError('create', `could not get container for ${target}: No such container: ${target}`);
  }
  for (const mode of [spec.pidMode, spec.ipcMode]) {
    const target = containerMode(mode);
    if (target !== undefined && missing(target)) throw new ContainerReferenceError('create', `No such container: ${target}`);
  }
  if (containerMode(spec.networkMode) !== undefined && spec.portMappings.length > 0) {
    throw new DockerApiError('create', 400, 'conflicting options: port publishing and the container type network mode');
  }
}

/** What Docker needs running at start: linked containers and the `container:` modes' containers. */
export function checkReferencesAtStart(name: string, spec: ContainerSpec, find: FindContainer): void {
  for (const link of spec.links ?? []) {
    const { target, alias } = splitLink(link);
    const other = find(target);
    if (other?.state !== 'running') {
      throw new ContainerReferenceError('start', `Cannot link to a non running container: /${target} AS /${name}/${alias}`);
    }
  }
  const network = containerMode(spec.networkMode);
  if (network !== undefined) {
    const other = find(network);
    if (!other) throw new ContainerReferenceError('start', `No such container: ${network}`);
    if (other.state !== 'running') throw new ContainerReferenceError('start', `cannot join network of a non running container: ${other.id}`);
  }
  const pid = containerMode(spec.pidMode);
  const pidOther = pid === undefined ? undefined : find(pid);
  if (pidOther && pidOther.state !== 'running') throw new ContainerReferenceError('start', `container ${pidOther.id} is not running`);
  const ipc = containerMode(spec.ipcMode);
  const ipcOther = ipc === undefined ? undefined : find(ipc);
  if (ipcOther && ipcOther.state !== 'running') {
    throw new ContainerReferenceError('start', `can't join IPC of container ${ipcOther.id}: container ${ipcOther.id} is not running`);
  }
  // Docker's default IPC mode is private: only a shareable (or host) donor can be joined.
  if (ipcOther && ipcOther.ipcMode !== 'shareable' && ipcOther.ipcMode !== 'host') {
    throw new DockerApiError(
      'start',
      500,
      `can't join IPC of container ${ipcOther.id}: non-shareable IPC (hint: use IpcMode:shareable for the donor container)`,
    );
  }
}
