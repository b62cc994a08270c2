import { destroySocket, type ModbusClient, type ModbusTransport } from './transport.js';

/**
 * RTU framing (unit id, PDU, CRC; no MBAP header) over a TCP socket: what a serial device server
 * ("transparent" mode of a Moxa NPort, USR-TCP232 and the like) passes through to its RS-485 port.
 * modbus-serial calls this port type "telnet"; its connectTcpRTUBuffered is something else — it
 * speaks MBAP on the wire and only converts to RTU inside the library.
 */
export class RtuOverTcpTransport implements ModbusTransport {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  get endpoint(): string {
    return `rtu-tcp://${this.host}:${this.port}`;
  }

  async connect(client: ModbusClient): Promise<void> {
    await client.connectTelnet(this.host, { port: this.port });
  }

  release(client: ModbusClient): Promise<void> {
    return destroySocket(client);
  }
}
