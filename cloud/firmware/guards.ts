import type { FastifyRequest } from 'fastify';
import { GsError } from '../../contracts/errors.js';
import { townOf } from '../plugins/auth.js';

/** Firmware is rolled out county-wide: a key bound to one town may read campaigns but not run them. */
export async function countyWide(req: FastifyRequest): Promise<void> {
  const town = townOf(req);
  if (town !== null) throw new GsError('GS_ERR_AUTH_FORBIDDEN', `this key is bound to town "${town}"; firmware is uploaded and rolled out with a county-wide key`);
}

export const actorOf = (req: FastifyRequest): string => req.principal?.name ?? 'admin';
