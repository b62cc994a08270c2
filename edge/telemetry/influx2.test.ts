// InfluxDB 2.x store against a real server speaking the v2 write API: Debian's VictoriaMetrics, started
// per run on 127.0.0.1 and a free port. What reached the server is read back through VictoriaMetrics'
// own /api/v1/export, so this covers the write path only — batching, the line protocol, tags, numeric
// and boolean fields, ms timestamps, the backlog while the server is down. NOT covered here (no
// InfluxDB 2.x installed): the Flux query (`query()`), string fields (VictoriaMetrics keeps numbers
// only: value_str, unit and reason do not come back), and the token's authorisation (VictoriaMetrics
// ignores it).
import t from 'tap';
import { needs } from '../../test/helpers/services.js';
import { hasVictoriaMetrics, VICTORIA_METRICS, VictoriaMetrics } from '../../test/helpers/victoria-metrics.js';
import { telemetryContract } from './contract.js';
import { Influx2TelemetryStore } from './influx2.js';
import { influx2Options, numericOnly, readBack } from './influx2-support.js';

t.test('influx2 (write path, against VictoriaMetrics)', async (t) => {
  if (!(await needs(t, VICTORIA_METRICS, hasVictoriaMetrics))) return;
  const vm = await new VictoriaMetrics().start();
  t.teardown(() => vm.dispose());
  // A server of this file's own: its data is this run's only.
  telemetryContract(t, 'influx2', async () => ({
    open: (o = {}) => new Influx2TelemetryStore(influx2Options(vm.url, { ...(o.batchSize ? { batchSize: o.batchSize } : {}), ...(o.flushIntervalMs ? { flushIntervalMs: o.flushIntervalMs } : {}) })),
    cleanup: async () => undefined,
    readBack: (q) => readBack(vm, q),
    project: numericOnly,
  }));
});
