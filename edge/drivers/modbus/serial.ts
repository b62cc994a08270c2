import type { ModbusClient, ModbusTransport } from './transport.js';

export type Parity = 'none' | 'even' | 'odd';

export interface SerialSettings {
  baudRate: number;
  parity: Parity;
  dataBits: 8;
  stopBits: 1 | 2;
}

/** As a device manual writes them: 9600 8N1. */
export function describeSerial(s: SerialSettings): string {
  return `${s.baudRate} ${s.dataBits}${s.parity[0]!.toUpperCase()}${s.stopBits}`;
}

/** Modbus RTU on a local serial port (an RS-485 adapter): every slave on the line shares it. */
export class SerialRtuTransport implements ModbusTransport {
  constructor(
    readonly path: string,
    readonly settings: SerialSettings,
  ) {}

  get endpoint(): string {
    return `rtu:${this.path}`;
  }

  async connect(client: ModbusClient): Promise<void> {
    // The buffered port reassembles frames that arrive in pieces, as they do from USB adapters.
    await client.connectRTUBuffered(this.path, { ...this.settings });
  }

  release(client: ModbusClient): Promise<void> {
    // modbus-serial's destroy() does nothing for serial ports; only close() gives the device (and its
    // exclusive lock) back, so the next connect, or another process, can open it.
    return new Promise<void>((resolve) => {
      try {
        client.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }
}
