import { systemClock } from '../../contracts/clock.js';
import { silentLogger } from '../log.js';
import { systemScheduler } from '../scheduler.js';
import { CameraRuntime, OnvifCameraDriver, RtspCameraDriver, type CameraDriverOptions } from './camera/driver.js';
import type { DriverDeps } from './driver.js';
import { ModbusRtuDriver, ModbusRtuTcpDriver, ModbusTcpDriver } from './modbus/driver.js';
import { MqttDriver, type MqttDriverOptions } from './mqtt/driver.js';
import { OpcuaDriver, type OpcuaDriverOptions } from './opcua/driver.js';
import { DriverRegistry } from './registry.js';

/** Every driver the edge ships with. Config validation uses it with default deps (it opens nothing). */
export function defaultDrivers(deps: Partial<DriverDeps> = {}, opts: { mqtt?: MqttDriverOptions; opcua?: OpcuaDriverOptions; cameras?: CameraDriverOptions } = {}): DriverRegistry {
  const full: DriverDeps = {
    clock: deps.clock ?? systemClock,
    scheduler: deps.scheduler ?? systemScheduler,
    random: deps.random ?? Math.random,
    logger: deps.logger ?? silentLogger(),
  };
  // ONVIF and RTSP cameras share one probe pool: `cameras.concurrency` probes at once on this edge.
  const cameras = new CameraRuntime(opts.cameras);
  return new DriverRegistry([
    new ModbusTcpDriver(full), new ModbusRtuDriver(full), new ModbusRtuTcpDriver(full), new MqttDriver(full, opts.mqtt), new OpcuaDriver(full, opts.opcua),
    new OnvifCameraDriver(full, cameras), new RtspCameraDriver(cameras),
  ]);
}
