// Route schemas compiled once per process, not once per app. Fastify compiles every route's
// validators and response serializers when an app starts; the schemas are module constants, so a
// process that builds many apps (the test suites build hundreds; two instances in one process) pays
// that again each time — about a second per app, most of it fast-json-stringify. Keyed by the schema
// object itself: the same object always compiles to the same function. One app per process (a
// production server) compiles exactly as before.
import type { FastifyInstance, FastifySchema, FastifySchemaCompiler, FastifySerializerCompiler } from 'fastify';
import { TypeBoxValidatorCompiler } from '@fastify/type-provider-typebox';
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

type Validator = ReturnType<FastifySchemaCompiler<unknown>>;
type Serializer = ReturnType<FastifySerializerCompiler<unknown>>;

const validators = new WeakMap<object, Map<string, Validator>>();
const serializers = new WeakMap<object, Map<string, Serializer>>();
const buildSerializer = SerializerSelector();

function cached<T>(store: WeakMap<object, Map<string, T>>, schema: object, key: string, make: () => T): T {
  let byKey = store.get(schema);
  if (!byKey) store.set(schema, (byKey = new Map()));
  let fn = byKey.get(key);
  if (!fn) byKey.set(key, (fn = make()));
  return fn;
}

/** Validation through TypeBox (which refuses unknown fields instead of stripping them), compiled once per schema and part. */
export const cachedValidatorCompiler: FastifySchemaCompiler<FastifySchema> = (route) =>
  cached(validators, route.schema as object, route.httpPart ?? '', () => TypeBoxValidatorCompiler(route as Parameters<typeof TypeBoxValidatorCompiler>[0]));

/**
 * Fastify's own serializer (fast-json-stringify), compiled once per schema. The app's shared schemas
 * (`$ref`s such as ErrorBody) are part of the key, so apps with other shared schemas never share one.
 */
export function useCachedSerializers(app: FastifyInstance): void {
  app.setSerializerCompiler((route) => {
    const external = app.getSchemas() as Record<string, unknown>;
    const key = `${route.httpStatus}|${route.contentType ?? ''}|${Object.keys(external).sort().join(',')}`;
    return cached(serializers, route.schema as object, key, () => buildSerializer(external, {})(route as Parameters<ReturnType<typeof buildSerializer>>[0]));
  });
}
