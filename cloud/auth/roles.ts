// Who may do what. A role is a named set of scopes; an API key has a role (and may narrow it with
// explicit scopes) and may be bound to one town, whose data is then all it sees.
export const SCOPES = [
  'events:read', // events, their stream and statistics
  'events:write', // lifecycle steps
  'alarms:read',
  'grids:read',
  'webhooks:write',
  'audit:read',
  'devices:read', // the device registry, edges' state, fleet health
  'devices:write', // register, import, move, disable, decommission devices; their rule overrides
  'devices:claim', // claim a device on site with the code on its label
  'admin', // edges (enrollment, revocation, rules), grids import, API keys
] as const;
export type Scope = (typeof SCOPES)[number];

export const ROLES = {
  admin: { label: '管理员', scopes: [...SCOPES] },
  dispatcher: { label: '调度员', scopes: ['events:read', 'events:write', 'alarms:read', 'grids:read', 'devices:read'] },
  technician: { label: '运维人员', scopes: ['events:read', 'alarms:read', 'grids:read', 'devices:read', 'devices:write', 'devices:claim'] },
  integrator: { label: '对接平台', scopes: ['events:read', 'alarms:read', 'grids:read', 'webhooks:write'] },
  auditor: { label: '审计员', scopes: ['events:read', 'alarms:read', 'grids:read', 'audit:read'] },
} as const satisfies Record<string, { label: string; scopes: readonly Scope[] }>;
export type Role = keyof typeof ROLES;
export const ROLE_CODES = Object.keys(ROLES) as Role[];

/** Who is calling, once a credential has been checked. */
export interface Principal {
  kind: 'admin-token' | 'api-key' | 'edge';
  /** Key id, edge id, or 'admin'. */
  id: string;
  /** What the timeline and the audit log show. */
  name: string;
  role: Role | 'edge';
  scopes: ReadonlySet<Scope>;
  /** Set for a town's key: it sees and changes only that town's events. */
  townId: string | null;
}

/** A key's scopes: its role's, narrowed to `only` when the key was made with explicit scopes. */
export function scopesOf(role: Role, only?: readonly Scope[]): Set<Scope> {
  const base: readonly Scope[] = ROLES[role].scopes;
  return new Set(only ? base.filter((s) => only.includes(s)) : base);
}
