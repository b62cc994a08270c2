// The tables as Kysely sees them. Timestamps are integer milliseconds since the epoch (BIGINT on
// PostgreSQL, so a `pg` type parser for int8 → number is needed there); JSON is stored as TEXT and
// parsed in code, so the same queries run on SQLite and PostgreSQL.
import type { Generated, Kysely } from 'kysely';

export interface EdgesTable {
  id: string;
  name: string;
  /** sha256 hex of the token; the token itself is shown once and never stored. */
  token_hash: string;
  created_at: number;
  revoked_at: number | null;
}

/** Every transition an edge delivered, once: the idempotency record of ingest. */
export interface AlarmTransitionsTable {
  edge_id: string;
  alarm_id: string;
  seq: number;
  action: string;
  ts: number;
  received_at: number;
  /** The envelope as received (JSON), so a transition held back until its raise arrives can be applied later. */
  envelope: string;
}

/** One row per alarm: the projection of its applied transitions. */
export interface AlarmsTable {
  /** Cloud id (sortable); the edge's id is `alarm_id`, unique per edge. */
  id: string;
  edge_id: string;
  alarm_id: string;
  device_id: string;
  type: string;
  severity: string;
  state: 'raised' | 'cleared';
  first_ts: number;
  last_ts: number;
  last_seq: number;
  cleared_ts: number | null;
  /** JSON of the last value (number, boolean, string or null). */
  value: string | null;
  unit: string | null;
  message: string | null;
  lon: number | null;
  lat: number | null;
  site: string | null;
  profile: string | null;
  rule_id: string | null;
  event_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface GridsTable {
  id: string;
  name: string;
  name_zh: string | null;
  level: string;
  parent_id: string | null;
  /** GeoJSON geometry (Polygon or MultiPolygon) as JSON. */
  geometry: string;
  min_lon: number;
  min_lat: number;
  max_lon: number;
  max_lat: number;
  area_km2: number;
  created_at: number;
  updated_at: number;
  /** The grid version (grid_versions) its current revision started at (0009). */
  version: Generated<number>;
}

/** One import that changed grids (0009): the county's grid versions, numbered 1, 2, … */
export interface GridVersionsTable {
  version: number;
  created_at: number;
  actor: string;
  imported: number;
  created: number;
  updated: number;
  unchanged: number;
  devices_moved: number;
}

/** Every state a grid has had: valid from `version_from` until `version_to` (excluded; NULL = current). */
export interface GridRevisionsTable {
  grid_id: string;
  version_from: number;
  version_to: number | null;
  name: string;
  name_zh: string | null;
  level: string;
  parent_id: string | null;
  geometry: string;
  min_lon: number;
  min_lat: number;
  max_lon: number;
  max_lat: number;
  area_km2: number;
  created_at: number;
}

/** 网格员 (0009): the person who walks a grid. */
export interface GridWorkersTable {
  id: string;
  name: string;
  phone: string;
  grid_id: string;
  /** The grid's town-level ancestor: the scope a town key sees. */
  town_id: string | null;
  created_at: number;
  updated_at: number;
  retired_at: number | null;
}

/** 职能部门 (0009): serves the whole county (town_id NULL) or one town, for some event categories. */
export interface DepartmentsTable {
  id: string;
  name: string;
  name_zh: string | null;
  phone: string | null;
  scope: 'county' | 'town';
  town_id: string | null;
  /** JSON array of category codes. */
  categories: string;
  created_at: number;
  updated_at: number;
  retired_at: number | null;
}

export interface DepartmentCategoriesTable {
  department_id: string;
  category: string;
}

export interface EventsTable {
  id: string;
  /** device + alarm type: what makes two alarms the same incident. */
  dedup_key: string;
  /** Equal to dedup_key while the event is open, NULL once closed; UNIQUE, so one open event per key. */
  open_dedup_key: string | null;
  edge_id: string;
  device_id: string;
  alarm_type: string;
  grid_id: string | null;
  /** The town-level grid containing the event (0003); null outside every town. */
  town_id: string | null;
  category: string;
  priority: number;
  status: string;
  occurrence_count: number;
  /** Linked alarms not yet cleared; the event counts as cleared when it reaches 0. */
  active_alarms: number;
  opened_at: number;
  updated_at: number;
  deadline_at: number;
  cleared_at: number | null;
  title: string;
  lon: number | null;
  lat: number | null;
  site: string | null;
  /** Who holds the work since it was dispatched: a department or a grid worker (0002). */
  assignee_kind: 'department' | 'worker' | null;
  assignee_id: string | null;
  accepted_at: number | null;
  dispatched_at: number | null;
  resolved_at: number | null;
  closed_at: number | null;
  escalated_at: number | null;
  escalations: Generated<number>;
  /** The grid as it was when the event opened (0009): its version, names and ancestor path (JSON). */
  grid_version: number | null;
  grid_name: string | null;
  grid_name_zh: string | null;
  grid_path: string | null;
  /** Time (edge clock) of the alarm that opened the event: the per-category join window's anchor (0009). */
  incident_at: number;
  /** The assignee's name when the event was dispatched (0009). */
  assignee_name: string | null;
}

export interface EventAlarmsTable {
  event_id: string;
  /** alarms.id (the cloud id). */
  alarm_id: string;
  linked_at: number;
}

export interface EventTimelineTable {
  /** Sortable id from the same generator as events, so entries of one millisecond keep their order. */
  id: string;
  event_id: string;
  at: number;
  kind: string;
  actor: string;
  note: string | null;
  /** JSON */
  data: string | null;
}

export interface EventFeedTable {
  /** Database sequence: the SSE id, the webhook delivery's position; strictly increasing. */
  seq: Generated<number>;
  type: string;
  event_id: string;
  town_id: string | null;
  at: number;
  /** The event JSON as published. */
  payload: string;
}

export interface WebhookSubscriptionsTable {
  id: string;
  url: string;
  secret: string;
  /** JSON array of BusMessageType. */
  types: string;
  /** Only events of this town (a town's integrator); null: the whole county. */
  town_id: string | null;
  description: string | null;
  created_at: number;
  disabled_at: number | null;
}

export interface WebhookDeliveriesTable {
  id: string;
  subscription_id: string;
  feed_seq: number;
  type: string;
  /** The JSON body sent (without the signature, which is made per attempt with its timestamp). */
  payload: string;
  status: 'pending' | 'delivered' | 'dead';
  attempts: number;
  next_attempt_at: number;
  locked_until: number | null;
  last_error: string | null;
  last_status: number | null;
  created_at: number;
  delivered_at: number | null;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  /** sha256 of the key; the key itself is shown once. */
  key_hash: string;
  role: string;
  /** JSON array narrowing the role's scopes, or null for all of them. */
  scopes: string | null;
  town_id: string | null;
  created_at: number;
  revoked_at: number | null;
}

export interface AuditLogTable {
  id: string;
  at: number;
  actor_kind: string;
  actor_id: string;
  actor_name: string;
  method: string;
  /** The route pattern, e.g. /api/v1/events/:id/transitions. */
  route: string;
  target_id: string | null;
  status: number;
  /** The request body as JSON with secrets removed, cut at 2 KB. */
  body: string | null;
}

export interface EdgeEnrollmentsTable {
  id: string;
  edge_id: string;
  /** sha256 of the one-time enrollment token; the token is shown once. */
  token_hash: string;
  created_at: number;
  created_by: string;
  expires_at: number;
  used_at: number | null;
}

/** Per-edge fleet state (0007): town, remote configuration, the last report and heartbeat. */
export interface EdgeFleetTable {
  edge_id: string;
  town_id: string | null;
  enrolled_at: number | null;
  /** The desired configuration's version; grows with every change affecting the edge. */
  config_version: number;
  config_changed_at: number;
  /** JSON array of library rule file names. */
  rules: string;
  applied_version: number | null;
  /** The last ConfigReport as JSON. */
  report: string | null;
  report_at: number | null;
  agent_version: string | null;
  started_at: number | null;
  outbox_depth: number | null;
  dead_letters: number | null;
  heartbeat_at: number | null;
  heartbeat_gap_ms: number | null;
  heartbeat_prev_gap_ms: number | null;
  /** JSON: the last heartbeat's device reports by device id. */
  heartbeat_devices: string | null;
  /** JSON: the last heartbeat's buses. */
  heartbeat_buses: string | null;
}

export interface DevicesTable {
  id: string;
  edge_id: string;
  name: string;
  profile: string;
  protocol: string;
  /** JSON: the edge.yaml connection block (MQTT: passwordHash, never the password). */
  connection: string;
  serial: string | null;
  lon: number | null;
  lat: number | null;
  grid_id: string | null;
  town_id: string | null;
  site: string | null;
  /** JSON array of tags (device_tags holds them for filtering). */
  tags: string;
  /** JSON of a Duration ("30s" or seconds). */
  poll_interval: string | null;
  offline_after_misses: number | null;
  /** JSON: rule overrides by rule id. */
  overrides: string | null;
  status: 'active' | 'disabled' | 'decommissioned';
  claim_code: string | null;
  claimed_at: number | null;
  claimed_by: string | null;
  created_at: number;
  updated_at: number;
  disabled_at: number | null;
  decommissioned_at: number | null;
  /** The last state the edge reported: online | offline | unknown | starting; null before any. */
  health: string | null;
  health_since: number | null;
}

export interface DeviceTagsTable {
  device_id: string;
  tag: string;
}

/** One row per device state change: online | offline | unknown | disabled | decommissioned. */
export interface DeviceHealthLogTable {
  id: string;
  device_id: string;
  state: string;
  at: number;
}

export interface Database {
  edges: EdgesTable;
  alarm_transitions: AlarmTransitionsTable;
  alarms: AlarmsTable;
  grids: GridsTable;
  grid_versions: GridVersionsTable;
  grid_revisions: GridRevisionsTable;
  grid_workers: GridWorkersTable;
  departments: DepartmentsTable;
  department_categories: DepartmentCategoriesTable;
  events: EventsTable;
  event_alarms: EventAlarmsTable;
  event_timeline: EventTimelineTable;
  event_feed: EventFeedTable;
  webhook_subscriptions: WebhookSubscriptionsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  api_keys: ApiKeysTable;
  audit_log: AuditLogTable;
  edge_enrollments: EdgeEnrollmentsTable;
  edge_fleet: EdgeFleetTable;
  devices: DevicesTable;
  device_tags: DeviceTagsTable;
  device_health_log: DeviceHealthLogTable;
}

export type Db = Kysely<Database>;
