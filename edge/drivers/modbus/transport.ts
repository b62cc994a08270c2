import ModbusSerial from 'modbus-serial';

/**
 * modbus-serial is CommonJS with `module.exports.default = module.exports`; under NodeNext the default
 * import is the module object, so the client class is its `default`.
 */
export const ModbusClientClass = ModbusSerial.default;
export type ModbusClient = InstanceType<typeof ModbusClientClass>;

/**
 * How a Modbus link reaches its bus. modbus-serial speaks TCP and RTU through the same client object
 * and differs only in how it connects, so a transport is just that: Modbus TCP (tcp.ts), RTU on a
 * serial line (serial.ts), RTU framing over a TCP socket (rtu-tcp.ts); link, queue and session are the
 * same for all three.
 */
export interface ModbusTransport {
  /**
   * Identifies the shared bus: tcp://host:port, rtu:/dev/ttyUSB0, rtu-tcp://host:port. Devices with the
   * same key share a link; `bus:<endpoint>` is their Session.busId.
   */
  readonly endpoint: string;
  /** Opens `client` on this transport. */
  connect(client: ModbusClient): Promise<void>;
  /** Releases whatever `connect` opened, even half-open; never rejects. */
  release(client: ModbusClient): Promise<void>;
}

/** Destroys the client's socket at once (no FIN handshake to wait for). */
export function destroySocket(client: ModbusClient): Promise<void> {
  return new Promise<void>((resolve) => {
    try {
      client.destroy(() => resolve());
    } catch {
      resolve();
    }
  });
}
