import { GsError } from '../../contracts/errors.js';
import type { Driver } from './driver.js';

/** Drivers by connection protocol. Adding a protocol is registering one more driver here. */
export class DriverRegistry {
  private readonly byProtocol = new Map<string, Driver>();

  constructor(drivers: Driver[] = []) {
    for (const d of drivers) this.register(d);
  }

  register(driver: Driver): void {
    if (this.byProtocol.has(driver.protocol)) throw new Error(`driver for "${driver.protocol}" registered twice`);
    this.byProtocol.set(driver.protocol, driver);
  }

  has(protocol: string): boolean {
    return this.byProtocol.has(protocol);
  }

  get(protocol: string): Driver {
    const d = this.byProtocol.get(protocol);
    if (!d) throw new GsError('GS_ERR_DRIVER_UNKNOWN', `no driver for protocol "${protocol}" (known: ${this.protocols().join(', ')})`);
    return d;
  }

  protocols(): string[] {
    return [...this.byProtocol.keys()].sort();
  }
}
