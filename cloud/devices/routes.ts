import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { GsError } from '../../contracts/errors.js';
import { errorResponses } from '../http/schemas.js';
import { townOf } from '../plugins/auth.js';
import { CSV_COLUMNS, csvDevices } from './csv.js';
import { claimDevice, decommissionDevice, disableDevice, enableDevice, moveDevice, patchDevice, renewMqttSecret, type Changed } from './lifecycle.js';
import { edgeHealthViews, toDeviceJson } from './model.js';
import { getDevice, listDevices } from './query.js';
import { registerDevices, registrationError } from './register.js';
import { ClaimBody, CreatedDeviceJson, DeviceInput, DeviceJson, DeviceList, DeviceListQuery, ImportResult, MoveBody, MqttCredentialsJson, PatchBody, DEVICE_ID_PATTERN } from './schemas.js';

const tags = ['devices'];
const security = [{ bearer: [] }];
const IdParams = Type.Object({ id: Type.String({ maxLength: 128, pattern: DEVICE_ID_PATTERN }) });
export const IMPORT_BODY_LIMIT = 32 * 1024 * 1024;
export const IMPORT_MAX_ROWS = 20_000;

export const deviceRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const f = app.fleet;
  // CSV bodies for the import route (this plugin only; the rest of the API speaks JSON).
  app.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, (_req, body, done) => done(null, body));

  /** After a commit: wake the long-polls of the edges it changed; answer the device as it is now. */
  const settled = async (c: Changed) => {
    f.watch.notify(c.edges);
    const views = await edgeHealthViews(app.db, [c.row.edge_id], f.clock.now());
    return { ...toDeviceJson(c.row, f.profiles, views.get(c.row.edge_id)), ...(c.mqtt ? { mqtt: c.mqtt } : {}) };
  };

  app.post(
    '/devices',
    {
      onRequest: app.requireScope('devices:write'),
      schema: {
        tags,
        summary: 'Register a device on an edge; the edge starts polling it as soon as it fetches its configuration',
        description:
          "The profile must exist and the connection must satisfy its driver (the edge's own checks). An MQTT device on the edge's embedded broker gets a generated password, returned once as `mqtt` and stored only as its scrypt hash (`passwordHash`). The location places it in a grid and town; each device gets a claim code for its label.",
        security,
        body: DeviceInput,
        response: { 201: CreatedDeviceJson, ...errorResponses(400, 401, 403, 409, 413, 415) },
      },
    },
    async (req, reply) => {
      const out = await registerDevices(f, [{ input: req.body }], { partial: false, town: townOf(req) });
      const failed = out.failed[0];
      if (failed) throw registrationError(req.body.id, failed.errors);
      const c = out.created[0]!;
      reply.status(201);
      return settled({ row: c.device, edges: out.edges, ...(c.mqtt ? { mqtt: c.mqtt } : {}) });
    },
  );

  app.post(
    '/devices/import',
    {
      onRequest: app.requireScope('devices:write'),
      // Anything but CSV is refused as such, before the body is held against the schema.
      preValidation: async (req) => {
        if (!/^text\/csv\b/i.test(req.headers['content-type'] ?? '')) throw new GsError('GS_ERR_MEDIA_TYPE', 'send the CSV file as Content-Type: text/csv');
      },
      bodyLimit: IMPORT_BODY_LIMIT,
      schema: {
        tags,
        summary: 'Register many devices from a CSV file (Content-Type: text/csv); all or nothing unless ?partial=true',
        description: `The first line names the columns (any order, case-insensitive): ${Object.entries(CSV_COLUMNS)
          .map(([c, what]) => `\`${c}\` ${what}`)
          .join('; ')}. A file with any bad line imports nothing: \`400 GS_ERR_IMPORT_INVALID\` with one detail per problem at \`/rows/<line>/<field>\`. With \`partial=true\` the good lines are imported and the bad ones reported in \`failed\`; \`dryRun=true\` checks only. At most ${IMPORT_MAX_ROWS} lines.`,
        security,
        consumes: ['text/csv'],
        querystring: Type.Object({ partial: Type.Optional(Type.Boolean()), dryRun: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        body: Type.String({ description: 'CSV text' }),
        response: { 200: ImportResult, ...errorResponses(400, 401, 403, 409, 413, 415) },
      },
    },
    async (req) => {
      const { header, rows } = csvDevices(req.body);
      if (header.length > 0) throw new GsError('GS_ERR_IMPORT_INVALID', 'the CSV header is not valid; nothing was imported', header);
      if (rows.length === 0) throw new GsError('GS_ERR_IMPORT_INVALID', 'the file has a header but no devices', [{ path: '/rows/2', message: 'no device lines' }]);
      if (rows.length > IMPORT_MAX_ROWS) throw new GsError('GS_ERR_IMPORT_INVALID', `at most ${IMPORT_MAX_ROWS} devices per file`, [{ path: '/rows', message: `${rows.length} lines; split the file` }]);
      const partial = req.query.partial === true;
      const dryRun = req.query.dryRun === true;
      const out = await registerDevices(f, rows.map((r) => ({ input: r.input, errors: r.errors })), { partial, dryRun, town: townOf(req) });
      const failed = out.failed.map((x) => ({ line: rows[x.index]!.line, id: x.id, errors: x.errors.map((e) => ({ path: e.path, message: e.message })) }));
      if (failed.length > 0 && !partial) {
        const details = failed.flatMap((x) => x.errors.map((e) => ({ path: `/rows/${x.line}${e.path}`, message: `${x.id ? `${x.id}: ` : ''}${e.message}` })));
        throw new GsError('GS_ERR_IMPORT_INVALID', `${failed.length} of ${rows.length} line(s) have errors; nothing was imported (fix them, or send ?partial=true to import the others)`, details);
      }
      f.watch.notify(out.edges);
      return {
        imported: out.created.length,
        dryRun,
        devices: out.created.map((c) => ({ id: c.device.id, line: rows[c.index]!.line, claimCode: c.device.claim_code!, ...(c.mqtt ? { mqtt: c.mqtt } : {}) })),
        failed,
      };
    },
  );

  app.get(
    '/devices',
    {
      onRequest: app.requireScope('devices:read'),
      schema: {
        tags,
        summary: 'Registered devices in id order; filter by edge, town, grid, profile, status, health, tag',
        description: "Decommissioned devices only with status=decommissioned. A town's key sees its town only.",
        security,
        querystring: DeviceListQuery,
        response: { 200: DeviceList, ...errorResponses(400, 401, 403) },
      },
    },
    async (req) => listDevices(app.db, f.profiles, req.query, townOf(req), f.clock.now()),
  );

  app.get(
    '/devices/:id',
    {
      onRequest: app.requireScope('devices:read'),
      schema: { tags, summary: 'One device with its health', security, params: IdParams, response: { 200: DeviceJson, ...errorResponses(400, 401, 403, 404) } },
    },
    async (req) => getDevice(app.db, f.profiles, req.params.id, townOf(req), f.clock.now()),
  );

  app.patch(
    '/devices/:id',
    {
      onRequest: app.requireScope('devices:write'),
      schema: {
        tags,
        summary: 'Change a device: name, rule overrides (null clears), tags, poll interval, serial, connection',
        description: "Overrides are checked against the rules its edge runs. A change the edge sees bumps the edge's configuration version.",
        security,
        params: IdParams,
        body: PatchBody,
        response: { 200: CreatedDeviceJson, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (req) => settled(await patchDevice(f, req.params.id, townOf(req), req.body)),
  );

  app.post(
    '/devices/:id/move',
    {
      onRequest: app.requireScope('devices:write'),
      schema: {
        tags,
        summary: 'Move a device: a new location (and so grid and town), site, or edge',
        security,
        params: IdParams,
        body: MoveBody,
        response: { 200: DeviceJson, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (req) => settled(await moveDevice(f, req.params.id, townOf(req), req.body)),
  );

  for (const [step, run, summary] of [
    ['disable', disableDevice, 'Disable a device: its edge stops polling it (it stays registered)'],
    ['enable', enableDevice, 'Enable a disabled device again'],
    ['decommission', decommissionDevice, 'Decommission a device for good: off its edge, claim code and MQTT login void'],
  ] as const) {
    app.post(
      `/devices/:id/${step}`,
      { onRequest: app.requireScope('devices:write'), schema: { tags, summary, security, params: IdParams, response: { 200: DeviceJson, ...errorResponses(400, 401, 403, 404, 409) } } },
      async (req) => settled(await run(f, req.params.id, townOf(req))),
    );
  }

  app.delete(
    '/devices/:id',
    {
      onRequest: app.requireScope('devices:write'),
      schema: { tags, summary: 'Decommission a device (same as POST /devices/{id}/decommission)', security, params: IdParams, response: { 200: DeviceJson, ...errorResponses(400, 401, 403, 404, 409) } },
    },
    async (req) => settled(await decommissionDevice(f, req.params.id, townOf(req))),
  );

  app.post(
    '/devices/:id/mqtt-credentials',
    {
      onRequest: app.requireScope('devices:write'),
      schema: {
        tags,
        summary: "A new MQTT password for a device on its edge's broker, shown once",
        security,
        params: IdParams,
        response: { 200: Type.Object({ deviceId: Type.String(), mqtt: MqttCredentialsJson }, { additionalProperties: false }), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (req) => {
      const c = await renewMqttSecret(f, req.params.id, townOf(req));
      f.watch.notify(c.edges);
      return { deviceId: c.row.id, mqtt: c.mqtt! };
    },
  );

  app.post(
    '/devices/claim',
    {
      onRequest: app.requireScope('devices:claim'),
      schema: {
        tags,
        summary: 'Claim a device on site with the code on its label: sets its location (grid, town), once',
        description: 'A code no device holds is `404 GS_ERR_CLAIM_UNKNOWN`; a code already claimed `409 GS_ERR_CLAIM_USED`.',
        security,
        body: ClaimBody,
        response: { 200: DeviceJson, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
      },
    },
    async (req) => settled(await claimDevice(f, townOf(req), req.body, req.principal?.name ?? 'unknown')),
  );
};
