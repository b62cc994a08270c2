// How an alarm becomes a grid event's category, priority and deadline. Data, not code: a county
// overrides any part through CloudOptions.config.
import { GsError } from '../../contracts/errors.js';
import type { Severity } from '../../contracts/alarm.js';

/** 1 = 特急 (most urgent) … 4 = 一般. */
export type Priority = 1 | 2 | 3 | 4;
export const PRIORITIES: readonly Priority[] = [1, 2, 3, 4];

export interface CategoryDef {
  /** Chinese label the governance platform shows. */
  label: string;
  /** Hours to handle an event of this category, by priority. */
  deadlineHours: Record<Priority, number>;
  /**
   * When every alarm of an event has cleared: false (default) marks it ready to verify and a person
   * closes it; true closes it on its own (a sensor that came back needs no site visit).
   */
  closeOnClear?: boolean;
  /**
   * Alarms of this category in one grid within this many minutes of an open event's first alarm join
   * that event, whatever the device (smoke + heat + gas in one building are one fire). 0 or absent: off,
   * each device and alarm type is its own event.
   */
  joinWindowMinutes?: number;
}

export interface EventPolicy {
  categories: Record<string, CategoryDef>;
  /** First match wins: an alarm type starting with `prefix` belongs to `category`. */
  typeRules: Array<{ prefix: string; category: string }>;
  /** Used when no type rule matched: the device profile's kind → category. */
  kindCategories: Record<string, string>;
  fallbackCategory: string;
  severityPriority: Record<Severity, Priority>;
  /** Kinds of place (envelope `site`) where an event is one step more urgent. */
  prioritySites: string[];
  priorityLabels: Record<Priority, string>;
  /** Minutes an event may wait in `reported` before supervision (督办) escalates it, by priority. */
  acceptMinutes: Record<Priority, number>;
}

export const DEFAULT_POLICY: EventPolicy = {
  categories: {
    // Join windows (joinWindowMinutes): on for fire, where several sensors of one building report one
    // incident — a fire trips smoke, heat and gas detectors within minutes. Off elsewhere, where each
    // alarm is its own case: each water gauge, underpass or pumping station needs its own crew (and a
    // gauge's warning and alarm levels are tracked apart), two forced doors are two break-ins, each dead
    // or failing device its own repair, each site hazard its own inspection. A county turns one on
    // with its policy (config.categories.<code>.joinWindowMinutes).
    flood_control: { label: '防汛', deadlineHours: { 1: 2, 2: 4, 3: 24, 4: 72 } },
    fire_safety: { label: '消防安全', deadlineHours: { 1: 1, 2: 2, 3: 12, 4: 48 }, joinWindowMinutes: 10 },
    public_security: { label: '社会治安', deadlineHours: { 1: 2, 2: 4, 3: 24, 4: 72 } },
    public_facilities: { label: '公共设施', deadlineHours: { 1: 4, 2: 8, 3: 48, 4: 120 } },
    work_safety: { label: '安全生产', deadlineHours: { 1: 2, 2: 4, 3: 24, 4: 72 } },
  },
  typeRules: [
    { prefix: 'water_level_', category: 'flood_control' },
    { prefix: 'rain', category: 'flood_control' },
    { prefix: 'smoke', category: 'fire_safety' },
    { prefix: 'temperature_high', category: 'fire_safety' },
    { prefix: 'gas', category: 'fire_safety' },
    { prefix: 'door_', category: 'public_security' },
    { prefix: 'access_', category: 'public_security' },
    // Water standing under a manhole cover is a flooding street, not a security matter.
    { prefix: 'manhole_water', category: 'flood_control' },
    { prefix: 'manhole_', category: 'public_security' },
    { prefix: 'device_offline', category: 'public_facilities' },
    // A dead RS-485 line or gateway (edge/health/): one facility event instead of one per sensor.
    { prefix: 'bus_offline', category: 'public_facilities' },
    { prefix: 'battery_low', category: 'public_facilities' },
    // A sensor that reports its own fault or end of life, or has gone quiet (rules/library/facilities.yaml).
    { prefix: 'sensor_', category: 'public_facilities' },
    { prefix: 'data_stale', category: 'public_facilities' },
    { prefix: 'camera_', category: 'public_facilities' },
  ],
  kindCategories: {
    water_level: 'flood_control',
    rain_gauge: 'flood_control',
    pumping_station: 'flood_control',
    smoke_detector: 'fire_safety',
    gas_detector: 'fire_safety',
    access_control: 'public_security',
    manhole_cover: 'public_security',
    camera: 'public_facilities',
    temperature_humidity: 'public_facilities',
    // Site sensors of factories and building works (tilt, dust, hoists) report to 安全生产.
    structural_tilt: 'work_safety',
    dust_monitor: 'work_safety',
    tower_crane: 'work_safety',
  },
  fallbackCategory: 'public_facilities',
  severityPriority: { critical: 1, major: 2, minor: 3, warning: 4 },
  prioritySites: ['nursing_home', 'school', 'market', 'hospital'],
  priorityLabels: { 1: '特急', 2: '紧急', 3: '较急', 4: '一般' },
  acceptMinutes: { 1: 15, 2: 30, 3: 120, 4: 480 },
};

/**
 * The default policy with `overrides` laid over it: categories and kind maps merge by key (so a
 * county can change one category's deadlines), lists and scalars replace. Refuses a policy that
 * names a category it does not define.
 */
export function resolvePolicy(overrides: Partial<EventPolicy> = {}): EventPolicy {
  const p: EventPolicy = {
    ...DEFAULT_POLICY,
    ...overrides,
    categories: { ...DEFAULT_POLICY.categories, ...overrides.categories },
    kindCategories: { ...DEFAULT_POLICY.kindCategories, ...overrides.kindCategories },
    severityPriority: { ...DEFAULT_POLICY.severityPriority, ...overrides.severityPriority },
    priorityLabels: { ...DEFAULT_POLICY.priorityLabels, ...overrides.priorityLabels },
    acceptMinutes: { ...DEFAULT_POLICY.acceptMinutes, ...overrides.acceptMinutes },
  };
  const problems: Array<{ path: string; message: string }> = [];
  const known = (c: string, path: string) => {
    if (!Object.hasOwn(p.categories, c)) problems.push({ path, message: `unknown category "${c}"` });
  };
  known(p.fallbackCategory, '/fallbackCategory');
  p.typeRules.forEach((r, i) => known(r.category, `/typeRules/${i}/category`));
  for (const [kind, c] of Object.entries(p.kindCategories)) known(c, `/kindCategories/${kind}`);
  for (const [code, def] of Object.entries(p.categories)) {
    for (const pr of PRIORITIES) {
      const h = def.deadlineHours?.[pr];
      if (typeof h !== 'number' || !(h > 0)) problems.push({ path: `/categories/${code}/deadlineHours/${pr}`, message: 'must be a positive number of hours' });
    }
  }
  for (const [code, def] of Object.entries(p.categories)) {
    const w = def.joinWindowMinutes;
    if (w !== undefined && (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > 24 * 60)) {
      problems.push({ path: `/categories/${code}/joinWindowMinutes`, message: 'must be a number of minutes from 0 (off) to 1440' });
    }
  }
  for (const pr of PRIORITIES) {
    const m = p.acceptMinutes[pr];
    if (typeof m !== 'number' || !(m > 0)) problems.push({ path: `/acceptMinutes/${pr}`, message: 'must be a positive number of minutes' });
  }
  if (problems.length > 0) throw new GsError('GS_ERR_CONFIG_INVALID', `event policy is not valid: ${problems.length} problem(s)`, problems);
  return p;
}

export function categoryFor(policy: EventPolicy, alarmType: string, profileKind: string | undefined): string {
  const rule = policy.typeRules.find((r) => alarmType.startsWith(r.prefix));
  if (rule) return rule.category;
  if (profileKind && Object.hasOwn(policy.kindCategories, profileKind)) return policy.kindCategories[profileKind]!;
  return policy.fallbackCategory;
}

export function priorityFor(policy: EventPolicy, severity: Severity, site: string | undefined): Priority {
  const base = policy.severityPriority[severity];
  const raised = site && policy.prioritySites.includes(site) ? base - 1 : base;
  return Math.max(1, raised) as Priority;
}

export function deadlineFor(policy: EventPolicy, category: string, priority: Priority, openedAt: number): number {
  const hours = policy.categories[category]?.deadlineHours[priority] ?? policy.categories[policy.fallbackCategory]!.deadlineHours[priority];
  return openedAt + Math.round(hours * 3_600_000);
}

export function categoryLabel(policy: EventPolicy, category: string): string {
  return policy.categories[category]?.label ?? category;
}

export function priorityLabel(policy: EventPolicy, priority: number): string {
  return policy.priorityLabels[priority as Priority] ?? String(priority);
}

/** The category's join window in ms; 0 = alarms of other devices never join its events. */
export function joinWindowMs(policy: EventPolicy, category: string): number {
  return Math.round((policy.categories[category]?.joinWindowMinutes ?? 0) * 60_000);
}
