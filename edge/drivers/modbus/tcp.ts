import { destroySocket, type ModbusClient, type ModbusTransport } from './transport.js';

/** Modbus TCP: MBAP framing on a socket. */
export class TcpTransport implements ModbusTransport {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  get endpoint(): string {
    return `tcp://${this.host}:${this.port}`;
  }

  async connect(client: ModbusClient): Promise<void> {
    // No socket timeout here: modbus-serial would keep it as an idle timeout on the open socket; the
    // link bounds the connect attempt itself and each transaction has its own timeout.
    await client.connectTCP(this.host, { port: this.port });
  }

  release(client: ModbusClient): Promise<void> {
    return destroySocket(client);
  }
}
