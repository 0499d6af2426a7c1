import { createHash } from 'node:crypto';
import { join } from 'node:path';

/*
 * Where a container's metadata file lives, on the host and inside the container: the one rule,
 * used by the spec (the bind mount and ECS_CONTAINER_METADATA_FILE) and by the writer. As the ECS
 * agent does, each container has a directory of its own, bind-mounted read-only: a directory, not
 * the file, so a rename inside it (the atomic rewrite) is seen by the container, where a file
 * bind mount would keep showing the old inode.
 */

/** The file's name, as the ECS agent names it. */
export const METADATA_FILE_NAME = 'ecs-container-metadata.json';
/** Where the directory appears inside containers, as on ECS. */
export const CONTAINER_METADATA_ROOT = '/opt/ecs/metadata';
/** The variable naming the file inside the container, as on ECS. */
export const METADATA_FILE_ENV = 'ECS_CONTAINER_METADATA_FILE';

export interface MetadataLocation {
  /** The container's directory on the host: `<root>/<task id>/<container name>`. */
  readonly hostDir: string;
  readonly hostFile: string;
  /** The same directory inside the container: `/opt/ecs/metadata/<task id>`. */
  readonly containerDir: string;
  readonly containerFile: string;
}

/**
 * The task's part of the paths: the arn's last segment (ECS's task id) made safe for a path, with
 * 8 hex of the arn's hash, since two arns may share a last segment (`a/x`, `b/x`) or differ only
 * in characters the cleaning replaces, and one task's cleanup must never remove another's files.
 */
export function taskDirName(taskArn: string): string {
  const last = taskArn.slice(taskArn.lastIndexOf('/') + 1).replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^\.+/, '');
  const hash = createHash('sha256').update(taskArn).digest('hex').slice(0, 8);
  return `${last === '' ? 'task' : last.slice(0, 64)}-${hash}`;
}

/** The directory holding every container's directory of the task (removed with the task). */
export function taskMetadataDir(root: string, taskArn: string): string {
  return join(root, taskDirName(taskArn));
}

/** Container names (`[a-zA-Z0-9][a-zA-Z0-9_.-]*`, checked by the parser) are safe in a path as they are. */
export function metadataLocation(root: string, taskArn: string, containerName: string): MetadataLocation {
  const hostDir = join(taskMetadataDir(root, taskArn), containerName);
  const containerDir = `${CONTAINER_METADATA_ROOT}/${taskDirName(taskArn)}`;
  return { hostDir, hostFile: join(hostDir, METADATA_FILE_NAME), containerDir, containerFile: `${containerDir}/${METADATA_FILE_NAME}` };
}
