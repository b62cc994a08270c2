import { ModbusClientClass } from '../../edge/drivers/modbus/transport.js';

/** Sets holding registers on a test's Modbus slave the way a real device's value would change: over Modbus. */
export async function writeHolding(port: number, address: number, values: number[], unitId = 1): Promise<void> {
  const c = new ModbusClientClass();
  await c.connectTCP('127.0.0.1', { port });
  c.setID(unitId);
  c.setTimeout(2000);
  try {
    await c.writeRegisters(address, values);
  } finally {
    await new Promise<void>((r) => c.close(() => r()));
  }
}
