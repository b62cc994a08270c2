// GET /events/stream — Server-Sent Events. Each message: `id:` the bus's monotonic number, `event:`
// event.opened | event.updated | event.cleared, `data:` the event JSON. A comment line every 15 s
// keeps proxies from closing an idle stream. Replay from Last-Event-ID needs a durable log (the
// PostgreSQL fan-out issue); today a reconnecting client re-reads /events for what it missed.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServerResponse } from 'node:http';
import Type from 'typebox';
import type { BusMessage } from './bus.js';

export const KEEP_ALIVE_MS = 15_000;
/** A client this far behind (unsent bytes) is cut off rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024;

export function formatSse(m: BusMessage): string {
  return `id: ${m.id}\nevent: ${m.type}\ndata: ${JSON.stringify(m.event)}\n\n`;
}

export const eventStreamRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const open = new Set<ServerResponse>();
  // preClose: before the server waits for connections to end, end ours — they never would.
  app.addHook('preClose', async () => {
    for (const res of open) res.end();
    open.clear();
  });

  app.get(
    '/events/stream',
    {
      // A HEAD would be answered by this handler too and never end.
      exposeHeadRoute: false,
      schema: {
        tags: ['events'],
        summary: 'Live grid events (Server-Sent Events)',
        description:
          'event: event.opened | event.updated | event.cleared; id: a monotonic number; data: the event JSON (as in GET /events/{id} without alarms and timeline). A comment line every 15 s keeps the connection alive.',
        response: { 200: { description: 'an endless text/event-stream', content: { 'text/event-stream': { schema: Type.String() } } } },
      },
    },
    (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no', // nginx: do not buffer the stream
      });
      res.write('retry: 3000\n: connected\n\n');
      open.add(res);
      const unsubscribe = app.bus.subscribe((m) => {
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          req.log.warn('event stream client too slow; disconnecting it');
          res.destroy();
          return;
        }
        res.write(formatSse(m));
      });
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
      res.on('close', () => {
        clearInterval(keepAlive);
        unsubscribe();
        open.delete(res);
      });
    },
  );
};
