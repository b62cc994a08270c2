import { createServer } from 'node:net';

/**
 * A loopback port that was free a moment ago, for peers that cannot bind port 0 and report the port
 * (pymodbus; modbus-serial's ServerTCP, which turns port 0 into its default 502).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
