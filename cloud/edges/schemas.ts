import Type from 'typebox';
import { IsoTime, NullableIsoTime } from '../http/schemas.js';

export const EDGE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

export const CreateEdgeBody = Type.Object(
  {
    id: Type.String({ pattern: EDGE_ID_PATTERN, description: 'e.g. town-qingquan' }),
    name: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type CreateEdgeBody = Type.Static<typeof CreateEdgeBody>;

export const EdgeJson = Type.Object(
  { id: Type.String(), name: Type.String(), createdAt: IsoTime, revokedAt: NullableIsoTime },
  { additionalProperties: false },
);
export type EdgeJson = Type.Static<typeof EdgeJson>;

export const CreatedEdgeJson = Type.Object(
  { ...EdgeJson.properties, token: Type.String({ description: 'the edge token (gse_…); shown this once, stored only as a hash' }) },
  { additionalProperties: false },
);
export type CreatedEdgeJson = Type.Static<typeof CreatedEdgeJson>;

export const EdgeList = Type.Object({ items: Type.Array(EdgeJson) }, { additionalProperties: false });
export type EdgeList = Type.Static<typeof EdgeList>;
