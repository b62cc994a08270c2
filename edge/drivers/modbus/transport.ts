import ModbusSerial from 'modbus-serial';

/**
 * modbus-serial is CommonJS with `module.exports.default = module.exports`; under NodeNext the default
 * import is the module object, so the client class is its `default`.
 */
export const ModbusClientClass = ModbusSerial.default;
export type ModbusClient = InstanceType<typeof ModbusClientClass>;

/**
 * How a Modbus link reaches its bus. modbus-serial speaks TCP and RTU through the same client object
 * and differs only in how it connects, so a transport is just that: TCP today (tcp.ts); RTU over a
 * serial line slots in as another transport (connectRTUBuffered) with the link, queue and session
 * unchanged.
 */
export interface ModbusTransport {
  /** Identifies the shared bus: tcp://host:port, rtu:/dev/ttyUSB0. Devices with the same key share a link. */
  readonly endpoint: string;
  /** Opens `client` on this transport. */
  connect(client: ModbusClient): Promise<void>;
}
