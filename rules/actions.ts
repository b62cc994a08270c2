// Rule actions: what an alarm makes the edge do besides reporting it — sound a siren (write a point
// of a device), take pictures of the place (camera snapshots as evidence). Rules stay pure: a rule
// only says which actions follow which transition, and the engine turns each raise or clear into
// action intents; the edge agent carries them out (edge/actions/). A failing action never holds
// back the alarm it belongs to.
//
//   actions:
//     - on: raise
//       write: { device: siren-east, point: siren, value: true }   # device: default the alarming one
//     - on: clear
//       write: { device: siren-east, point: siren, value: false }
//     - on: raise
//       snapshot: { cameras: [cam-east-gate] }   # these cameras
//     - on: raise
//       snapshot: { within: 50 }                 # the device's linked cameras, else those within 50 m
//     - on: raise
//       snapshot: {}                             # the device's linked cameras (edge.yaml `cameras:`)
import Type from 'typebox';
import type { ErrorDetail } from '../contracts/errors.js';
import { ProfilePoint } from '../contracts/profile.js';
import type { RuleAlarm } from './types.js';

export const ACTION_TRIGGERS = ['raise', 'clear'] as const;
export type ActionTrigger = (typeof ACTION_TRIGGERS)[number];

const DeviceRef = Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$' });

export const WriteActionSpec = Type.Object(
  {
    /** The device written to; default the device the alarm is on. */
    device: Type.Optional(DeviceRef),
    /** A writable point of that device's profile. */
    point: ProfilePoint.properties.name,
    /** In the point's units (scale and offset are undone before it is sent). */
    value: Type.Union([Type.Number(), Type.Boolean(), Type.String({ maxLength: 256 })]),
  },
  { additionalProperties: false },
);
export type WriteActionSpec = Type.Static<typeof WriteActionSpec>;

export const SnapshotActionSpec = Type.Object(
  {
    /** These cameras (edge device ids). */
    cameras: Type.Optional(Type.Array(DeviceRef, { minItems: 1, maxItems: 16 })),
    /** Metres: the device's linked cameras, or when it has none, the cameras within this distance of it. */
    within: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 10_000 })),
  },
  { additionalProperties: false },
);
export type SnapshotActionSpec = Type.Static<typeof SnapshotActionSpec>;

export const RuleActionSpec = Type.Object(
  {
    /** The transition that triggers it (an escalation's update triggers nothing). */
    on: Type.Enum(ACTION_TRIGGERS),
    write: Type.Optional(WriteActionSpec),
    snapshot: Type.Optional(SnapshotActionSpec),
  },
  { additionalProperties: false },
);
export type RuleActionSpec = Type.Static<typeof RuleActionSpec>;

/** The most cameras one snapshot action may take pictures from (an alarm carries at most 16 pieces of evidence). */
export const MAX_SNAPSHOT_CAMERAS = 8;

/** What the edge is asked to do because of one alarm transition. */
export type ActionIntent =
  | {
      kind: 'write';
      ruleId: string;
      alarmId: string;
      on: ActionTrigger;
      /** When the transition happened. */
      at: number;
      deviceId: string;
      point: string;
      value: number | boolean | string;
    }
  | {
      kind: 'snapshot';
      ruleId: string;
      alarmId: string;
      on: 'raise';
      at: number;
      /** The alarming device. */
      deviceId: string;
      /** Named cameras; absent: the device's linked cameras (then those within `withinMetres`). */
      cameras?: string[];
      withinMetres?: number;
    };

/** Problems of a rule's `actions` that the schema cannot see; paths relative to the list. */
export function actionProblems(actions: readonly RuleActionSpec[]): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  actions.forEach((a, i) => {
    const at = `/${i}`;
    const kinds = (['write', 'snapshot'] as const).filter((k) => a[k] !== undefined);
    if (kinds.length === 0) out.push({ path: at, message: 'needs one of "write" (set a point of a device) or "snapshot" (take camera pictures)' });
    if (kinds.length > 1) out.push({ path: `${at}/snapshot`, message: 'an action does one thing: "write" or "snapshot" (write two actions)' });
    if (a.snapshot) {
      if (a.on !== 'raise') out.push({ path: `${at}/on`, message: 'a snapshot is evidence of a raise: "on" must be raise' });
      if (a.snapshot.cameras !== undefined && a.snapshot.within !== undefined) {
        out.push({ path: `${at}/snapshot/within`, message: 'give "cameras" (these cameras) or "within" (cameras near the device), not both' });
      }
      if (a.snapshot.cameras && a.snapshot.cameras.length > MAX_SNAPSHOT_CAMERAS) {
        out.push({ path: `${at}/snapshot/cameras`, message: `at most ${MAX_SNAPSHOT_CAMERAS} cameras per snapshot action` });
      }
      const dup = a.snapshot.cameras?.find((c, j) => a.snapshot!.cameras!.indexOf(c) !== j);
      if (dup !== undefined) out.push({ path: `${at}/snapshot/cameras`, message: `camera "${dup}" is listed twice` });
    }
  });
  return out;
}

/** Pure: the intents one alarm transition triggers under a rule's actions (none for an update). */
export function actionIntents(actions: readonly RuleActionSpec[] | undefined, alarm: RuleAlarm): ActionIntent[] {
  if (!actions || alarm.action === 'update') return [];
  const on = alarm.action;
  const out: ActionIntent[] = [];
  for (const a of actions) {
    if (a.on !== on) continue;
    const base = { ruleId: alarm.ruleId, alarmId: alarm.alarmId, at: alarm.ts };
    if (a.write) out.push({ kind: 'write', ...base, on, deviceId: a.write.device ?? alarm.deviceId, point: a.write.point, value: a.write.value });
    else if (a.snapshot && on === 'raise') {
      out.push({
        kind: 'snapshot',
        ...base,
        on,
        deviceId: alarm.deviceId,
        ...(a.snapshot.cameras ? { cameras: [...a.snapshot.cameras] } : {}),
        ...(a.snapshot.within !== undefined ? { withinMetres: a.snapshot.within } : {}),
      });
    }
  }
  return out;
}
