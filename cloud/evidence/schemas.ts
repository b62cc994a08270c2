import Type from 'typebox';
import { EVIDENCE_KINDS, Evidence } from '../../contracts/alarm.js';
import { IsoTime } from '../http/schemas.js';

/** A piece of evidence as the API shows it with an event; the bytes are at `url`. */
export const EvidenceJson = Type.Object(
  {
    id: Type.String(),
    /** The cloud id of the alarm it belongs to. */
    alarmId: Type.String(),
    kind: Type.Enum(EVIDENCE_KINDS),
    cameraId: Type.String(),
    takenAt: IsoTime,
    contentType: Type.String(),
    sha256: Type.String(),
    size: Type.Integer(),
    /** False until the edge has uploaded the bytes. */
    available: Type.Boolean(),
    url: Type.String({ description: 'GET it with a credential that sees the event (image/jpeg)' }),
  },
  { additionalProperties: false },
);
export type EvidenceJson = Type.Static<typeof EvidenceJson>;

export const Sha256Param = Type.Object({ sha256: Type.String({ pattern: '^[0-9a-f]{64}$', description: 'lower-case hex SHA-256 of the body' }) });

export const EvidenceLinkBody = Type.Object({ evidence: Type.Array(Evidence, { minItems: 1, maxItems: 16 }) }, { additionalProperties: false });
export type EvidenceLinkBody = Type.Static<typeof EvidenceLinkBody>;
