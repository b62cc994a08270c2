import type { ModbusClient, ModbusTransport } from './transport.js';

export class TcpTransport implements ModbusTransport {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {}

  get endpoint(): string {
    return `tcp://${this.host}:${this.port}`;
  }

  connect(client: ModbusClient): Promise<void> {
    // No socket timeout here: modbus-serial would keep it as an idle timeout on the open socket; the
    // link bounds the connect attempt itself and each transaction has its own timeout.
    return client.connectTCP(this.host, { port: this.port });
  }
}
