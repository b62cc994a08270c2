// What edge.yaml must give the rule actions it runs: linked cameras that are cameras, write targets
// that exist and have the point writable, snapshot actions that can find a camera. Checked with the
// configuration (so `gridsense edge check` and a remote configuration refuse a siren that is not
// there) rather than when the alarm fires. Only rules that watch at least one device here count.
import type { ErrorDetail } from '../../contracts/errors.js';
import type { DeviceProfile } from '../../contracts/profile.js';
import { ruleSpecOf } from '../../rules/evaluate.js';
import type { RuleDevice, RuleSet } from '../../rules/types.js';
import type { DeviceConfig } from '../config.js';

const WRITABLE = new Set(['readwrite', 'write']);

export function actionTargetProblems(devices: DeviceConfig[], profileOf: (id: string) => DeviceProfile | undefined, ruleSets: RuleSet[], configFile: string): ErrorDetail[] {
  const out: ErrorDetail[] = [];
  const byId = new Map(devices.filter((d) => typeof d.id === 'string').map((d) => [d.id, d]));
  const isCamera = (id: string) => {
    const d = byId.get(id);
    return d !== undefined && profileOf(d.profile)?.protocol === 'camera';
  };

  devices.forEach((d, i) => {
    d.cameras?.forEach((c, j) => {
      if (!isCamera(c)) out.push({ file: configFile, path: `/devices/${i}/cameras/${j}`, message: byId.has(c) ? `"${c}" is not a camera (its profile is not a camera profile)` : `no device "${c}" in this configuration` });
    });
  });

  const ruleDevices: Array<{ config: DeviceConfig; rule: RuleDevice }> = [];
  for (const d of devices) {
    const p = typeof d.profile === 'string' ? profileOf(d.profile) : undefined;
    if (p && typeof d.id === 'string') ruleDevices.push({ config: d, rule: { id: d.id, profile: p.id, kind: p.kind, ...(d.place !== undefined ? { site: d.place } : {}) } });
  }

  for (const set of ruleSets) {
    set.rules.forEach((rule, r) => {
      const actions = ruleSpecOf(rule)?.actions;
      if (!actions) return;
      // An `all:` rule raises on one of its members: any device it watches may be the alarming one.
      const watched = ruleDevices.filter((d) => rule.appliesTo(d.rule));
      if (watched.length === 0) return;
      const at = (a: number, rest: string) => ({ file: set.file, path: `/rules/${r}/actions/${a}${rest}` });
      actions.forEach((a, k) => {
        if (a.write) {
          const targets = a.write.device !== undefined ? [a.write.device] : watched.map((d) => d.config.id);
          for (const id of targets) {
            const dev = byId.get(id);
            if (!dev) {
              out.push({ ...at(k, '/write/device'), message: `no device "${id}" in ${configFile}` });
              continue;
            }
            const point = profileOf(dev.profile)?.points.find((p) => p.name === a.write!.point);
            if (!point) out.push({ ...at(k, '/write/point'), message: `device "${id}" (${dev.profile}) has no point "${a.write.point}"` });
            else if (!WRITABLE.has(point.access ?? 'read')) out.push({ ...at(k, '/write/point'), message: `point "${a.write.point}" of device "${id}" is read-only` });
            else if (point.type !== undefined && !fits(point.type, a.write.value)) out.push({ ...at(k, '/write/value'), message: `point "${a.write.point}" is a ${point.type}; ${JSON.stringify(a.write.value)} is not` });
          }
        }
        if (a.snapshot) {
          a.snapshot.cameras?.forEach((c, j) => {
            if (!isCamera(c)) out.push({ ...at(k, `/snapshot/cameras/${j}`), message: byId.has(c) ? `"${c}" is not a camera` : `no camera "${c}" in ${configFile}` });
          });
          if (!a.snapshot.cameras) {
            for (const d of watched) {
              if (d.config.cameras?.length) continue;
              if (a.snapshot.within === undefined) out.push({ ...at(k, '/snapshot'), message: `device "${d.config.id}" has no linked cameras (its "cameras" in ${configFile}); give the action "cameras" or "within"` });
              else if (!d.config.location) out.push({ ...at(k, '/snapshot/within'), message: `device "${d.config.id}" has neither linked cameras nor a location to measure "within" from` });
            }
          }
        }
      });
    });
  }
  return out;
}

function fits(type: string, value: unknown): boolean {
  if (type === 'boolean') return typeof value === 'boolean' || value === 0 || value === 1;
  if (type === 'number') return typeof value === 'number';
  if (type === 'string') return typeof value === 'string';
  return true;
}
