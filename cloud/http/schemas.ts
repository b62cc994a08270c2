// Schemas every context shares: the error body, ISO times, paging.
import Type, { type TSchema } from 'typebox';

export const ErrorDetail = Type.Object(
  {
    path: Type.String({ description: 'JSON pointer into the request part that failed' }),
    message: Type.String(),
    file: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

/** The one error shape of the API; registered once as a shared schema and referenced by every route. */
export const ErrorBody = Type.Object(
  {
    code: Type.String({ description: 'stable GS_ERR_… code; match on it, never on the message', examples: ['GS_ERR_VALIDATION'] }),
    message: Type.String(),
    details: Type.Optional(Type.Array(ErrorDetail)),
  },
  { $id: 'ErrorBody', additionalProperties: false, description: 'every error the API returns' },
);
export type ErrorBody = Type.Static<typeof ErrorBody>;

const errorRef = Type.Ref('ErrorBody');

/** Response entries for the error statuses a route can answer, all with the shared ErrorBody. */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const s of statuses) out[s] = errorRef;
  return out;
}

export const IsoTime = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });
export const NullableIsoTime = Type.Union([IsoTime, Type.Null()]);
export const nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, description: 'page size, default 50' })),
  cursor: Type.Optional(Type.String({ maxLength: 512, description: 'opaque; the nextCursor of the previous page' })),
};

export const NextCursor = Type.Union([Type.String(), Type.Null()], { description: 'null on the last page' });

export const DEFAULT_PAGE_SIZE = 50;

export const LocationJson = Type.Object({ lon: Type.Number(), lat: Type.Number() }, { additionalProperties: false });
