// GET /events/stream — Server-Sent Events. Each message: `id:` the feed's sequence number, `event:`
// event.opened | event.updated | event.cleared | event.closed, `data:` the event JSON. A client that
// reconnects with Last-Event-ID (browsers do it on their own) first gets what it missed from the
// durable feed, then the live messages, with nothing twice and nothing lost between the two.
// A comment line every 15 s keeps proxies from closing an idle stream.
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { ServerResponse } from 'node:http';
import Type from 'typebox';
import type { BusMessage } from './bus.js';
import { townOf } from '../plugins/auth.js';

export const KEEP_ALIVE_MS = 15_000;
/** A client this far behind (unsent bytes) is cut off rather than buffered without bound. */
const MAX_BUFFERED_BYTES = 1024 * 1024;
/** Most messages a resume replays; a client further behind re-reads GET /events. */
const MAX_REPLAY = 10_000;

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
      onRequest: app.requireScope('events:read'),
      // A HEAD would be answered by this handler too and never end.
      exposeHeadRoute: false,
      schema: {
        tags: ['events'],
        summary: 'Live grid events (Server-Sent Events)',
        description:
          'event: event.opened | event.updated | event.cleared; id: a monotonic number; data: the event JSON (as in GET /events/{id} without alarms and timeline). A comment line every 15 s keeps the connection alive.',
        headers: Type.Object({ 'last-event-id': Type.Optional(Type.String({ pattern: '^\\d{1,15}$', description: 'resume after this id' })) }),
        querystring: Type.Object({ lastEventId: Type.Optional(Type.String({ pattern: '^\\d{1,15}$', description: 'the same, for clients that cannot set headers' })) }, { additionalProperties: false }),
        response: { 200: { description: 'an endless text/event-stream', content: { 'text/event-stream': { schema: Type.String() } } } },
      },
    },
    async (req, reply) => {
      const resumeAfter = req.headers['last-event-id'] ?? req.query.lastEventId;
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
      let sent = resumeAfter === undefined ? 0 : Number(resumeAfter);
      const town = townOf(req);
      const send = (m: BusMessage) => {
        if (m.id <= sent) return; // replayed already
        if (town && m.event.townId !== town) return;
        if (res.writableLength > MAX_BUFFERED_BYTES) {
          req.log.warn('event stream client too slow; disconnecting it');
          res.destroy();
          return;
        }
        sent = m.id;
        res.write(formatSse(m));
      };
      // Subscribe before reading the backlog and hold live messages until it is written: a message
      // published in between is then in one or the other, and `sent` drops the overlap.
      let held: BusMessage[] | undefined = resumeAfter === undefined ? undefined : [];
      const unsubscribe = app.bus.subscribe((m) => (held ? held.push(m) : send(m)));
      if (held) {
        try {
          for (const m of await app.bus.since(sent, MAX_REPLAY)) send(m);
        } catch (err) {
          req.log.error({ err }, 'event stream replay failed');
        }
        for (const m of held) send(m);
        held = undefined;
      }
      const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);
      res.on('close', () => {
        clearInterval(keepAlive);
        unsubscribe();
        open.delete(res);
      });
    },
  );
};
