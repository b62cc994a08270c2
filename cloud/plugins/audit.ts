import { definePlugin } from './define.js';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const SECRET_KEYS = /secret|token|password|key$/i;
const MAX_BODY = 2048;

/**
 * One audit row per write under /api/v1, after the response, with who made it, the route, the target
 * id, the status and the body (secrets removed). Edge alarm uploads are not audited here: every
 * transition they carry is already stored verbatim in alarm_transitions.
 */
export const auditPlugin = definePlugin<Record<string, never>>('gs-audit', ['gs-db', 'gs-clock', 'gs-auth'], async (app) => {
  app.addHook('onResponse', async (req, reply) => {
    if (!WRITES.has(req.method) || !req.url.startsWith('/api/v1/') || req.edgeId !== null) return;
    const p = req.principal;
    const params = (req.params ?? {}) as Record<string, unknown>;
    try {
      await app.db
        .insertInto('audit_log')
        .values({
          id: app.newId(),
          at: app.clock.now(),
          actor_kind: p?.kind ?? 'anonymous',
          actor_id: p?.id ?? '-',
          actor_name: p?.name ?? '-',
          method: req.method,
          route: req.routeOptions.url ?? req.url,
          target_id: typeof params.id === 'string' ? params.id : null,
          status: reply.statusCode,
          body: summarise(req.body),
        })
        .execute();
    } catch (err) {
      req.log.error({ err }, 'audit log write failed');
    }
  });
});

function summarise(body: unknown): string | null {
  if (body === undefined || body === null) return null;
  const text = JSON.stringify(body, (k, v: unknown) => (k && SECRET_KEYS.test(k) ? '[redacted]' : v));
  return text.length <= MAX_BODY ? text : JSON.stringify({ truncated: true, size: text.length });
}
