// The edge's cameras as snapshot sources: which configured devices are cameras, their connection
// blocks resolved as the camera drivers resolve them, which cameras belong to a device (its linked
// `cameras`, else those within a distance of its location), and one snapshot through the shared
// Snapshotter. Used by the rule actions and the local API alike.
import { GsError } from '../../contracts/errors.js';
import { distanceMetres } from '../../contracts/geo.js';
import type { DeviceProfile } from '../../contracts/profile.js';
import type { Snapshot, Snapshotter } from '../cameras/snapshot.js';
import type { DeviceConfig } from '../config.js';
import { resolveOnvif, resolveRtsp, type ResolvedCamera } from '../drivers/camera/connection.js';

export interface ConfiguredDevice {
  config: DeviceConfig;
  profile: DeviceProfile;
}

export class CameraSnapshots {
  constructor(
    /** The devices configured now (read on every call: a configuration applied live counts at once). */
    private readonly devices: () => Iterable<ConfiguredDevice>,
    private readonly snapshotter: Snapshotter,
  ) {}

  /** The camera's connection, resolved; undefined when `id` is not a camera of this edge. */
  resolve(id: string): ResolvedCamera | undefined {
    for (const d of this.devices()) {
      if (d.config.id !== id || d.profile.protocol !== 'camera') continue;
      const conn = { ...d.config.connection, deviceId: id };
      if (conn.protocol === 'onvif') return resolveOnvif(conn);
      if (conn.protocol === 'rtsp') return resolveRtsp(conn);
    }
    return undefined;
  }

  /** A JPEG from camera `id`; GS_ERR_CAMERA_UNKNOWN when it is not one, else a CameraFailure. */
  take(id: string, opts: { signal?: AbortSignal } = {}): Promise<Snapshot> {
    const c = this.resolve(id);
    if (!c) return Promise.reject(new GsError('GS_ERR_CAMERA_UNKNOWN', `no camera "${id}" on this edge`));
    return this.snapshotter.take(id, c, opts);
  }

  /**
   * The cameras that see `device`: its linked cameras when it has any; else, with `withinMetres`, the
   * cameras within that distance of its location, nearest first (at most `max`).
   */
  camerasFor(device: DeviceConfig, withinMetres: number | undefined, max: number): string[] {
    if (device.cameras?.length) return device.cameras.slice(0, max);
    const at = device.location;
    if (withinMetres === undefined || !at) return [];
    const near: Array<{ id: string; d: number }> = [];
    for (const c of this.devices()) {
      if (c.profile.protocol !== 'camera' || !c.config.location || c.config.id === device.id) continue;
      const d = distanceMetres(at, c.config.location);
      if (d <= withinMetres) near.push({ id: c.config.id, d });
    }
    return near.sort((a, b) => a.d - b.d || a.id.localeCompare(b.id)).slice(0, max).map((n) => n.id);
  }
}
