import type { FastifyInstance, FastifyPluginAsync } from 'fastify';

/**
 * Marks a plugin the way fastify-plugin does (the same well-known symbols Fastify reads): its
 * decorators and hooks reach the parent instead of staying encapsulated, it carries a name, and
 * Fastify refuses to boot when a dependency was not registered first. Written out here so that a
 * transitive package is not imported undeclared; `fastify-plugin` can replace it one for one.
 */
export function definePlugin<Opts extends Record<string, unknown>>(
  name: string,
  dependencies: string[],
  fn: (app: FastifyInstance, opts: Opts) => Promise<void>,
): FastifyPluginAsync<Opts> {
  const plugin = fn as FastifyPluginAsync<Opts> & Record<symbol, unknown>;
  plugin[Symbol.for('skip-override')] = true;
  plugin[Symbol.for('fastify.display-name')] = name;
  plugin[Symbol.for('plugin-meta')] = { name, dependencies, fastify: '5.x' };
  return plugin;
}
