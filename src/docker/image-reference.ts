/**
 * The name Docker means by an image reference, as its reference parser (distribution/reference's
 * ParseNormalizedNamed) resolves it: `busybox`, `library/busybox:latest` and
 * `docker.io/library/busybox:latest` are one image. The first path component is a registry only
 * when it looks like a host (has a dot or a port, or is `localhost`); a missing tag is `latest`
 * unless a digest pins the image.
 */
export function normalizeImageReference(image: string): string {
  const at = image.indexOf('@');
  const name = at === -1 ? image : image.slice(0, at);
  const digest = at === -1 ? '' : image.slice(at);
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const hasRegistry = slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first !== first.toLowerCase());
  let registry = hasRegistry ? first : 'docker.io';
  let path = hasRegistry ? name.slice(slash + 1) : name;
  if (registry === 'index.docker.io') registry = 'docker.io';
  if (registry === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  const tagged = path.slice(path.lastIndexOf('/') + 1).includes(':');
  return `${registry}/${path}${tagged || digest ? '' : ':latest'}${digest}`;
}
