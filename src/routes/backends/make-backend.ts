import type { RouteBackend } from '../route-backend.js';
import type { RouteConfig } from '../route-config.js';
import { commandBackend } from './command-backend.js';
import { fileBackend } from './file-backend.js';
import { webhookBackend } from './webhook-backend.js';

export function makeBackend(route: RouteConfig): RouteBackend {
  const b = route.backend;
  switch (b.type) {
    case 'file':
      return fileBackend(route.name, b.path);
    case 'webhook':
      return webhookBackend(route.name, b);
    case 'command':
      return commandBackend(route.name, b);
  }
}

/** Webhooks overlap different tasks' records; a file and a command keep the feed's order. */
export function deliveryConcurrency(route: RouteConfig): number {
  return route.backend.type === 'webhook' ? route.backend.concurrency : 1;
}
