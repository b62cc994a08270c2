// A small roster for tests that dispatch events (not a test file itself): grid workers of the sample
// county's Qingquan town and two county departments. Needs the sample county imported first.
import type { FastifyInstance } from 'fastify';
import { ADMIN } from '../test-support.js';

export const ROSTER = {
  workers: [
    { id: 'w', name: '王网格', phone: '13800138000', gridId: 'qingquan-riverside-g01' },
    { id: 'wang', name: '王明', phone: '13800138001', gridId: 'qingquan-riverside-g02' },
  ],
  departments: [
    { id: 'water-bureau', name: 'Water Bureau', nameZh: '县水务局', scope: 'county', categories: ['flood_control'] },
    { id: 'roads', name: 'Transport Bureau', nameZh: '县交通运输局', scope: 'county', categories: ['public_facilities', 'flood_control'] },
  ],
} as const;

export async function seedRoster(app: FastifyInstance): Promise<void> {
  const post = async (url: string, payload: object) => {
    const res = await app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${ADMIN}` }, payload });
    if (res.statusCode !== 201) throw new Error(`POST ${url}: HTTP ${res.statusCode}: ${res.body}`);
  };
  for (const w of ROSTER.workers) await post('/api/v1/grid-workers', w);
  for (const d of ROSTER.departments) await post('/api/v1/departments', d);
}
