import { systemClock } from '../../contracts/clock.js';
import { silentLogger } from '../log.js';
import { systemScheduler } from '../scheduler.js';
import type { DriverDeps } from './driver.js';
import { ModbusRtuDriver, ModbusRtuTcpDriver, ModbusTcpDriver } from './modbus/driver.js';
import { MqttDriver, type MqttDriverOptions } from './mqtt/driver.js';
import { OpcuaDriver, type OpcuaDriverOptions } from './opcua/driver.js';
import { DriverRegistry } from './registry.js';

/** Every driver the edge ships with. Config validation uses it with default deps (it opens nothing). */
export function defaultDrivers(deps: Partial<DriverDeps> = {}, opts: { mqtt?: MqttDriverOptions; opcua?: OpcuaDriverOptions } = {}): DriverRegistry {
  const full: DriverDeps = {
    clock: deps.clock ?? systemClock,
    scheduler: deps.scheduler ?? systemScheduler,
    random: deps.random ?? Math.random,
    logger: deps.logger ?? silentLogger(),
  };
  return new DriverRegistry([new ModbusTcpDriver(full), new ModbusRtuDriver(full), new ModbusRtuTcpDriver(full), new MqttDriver(full, opts.mqtt), new OpcuaDriver(full, opts.opcua)]);
}
