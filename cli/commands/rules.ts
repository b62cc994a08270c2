import type { Command } from 'commander';
import { GsError, isGsError } from '../../contracts/errors.js';

/** `gridsense rules validate <files…>`: each file compiled, every problem printed with file, rule and field. */
export async function validateRules(files: string[], out: (line: string) => void): Promise<number> {
  const { loadRuleFile } = await import('../../rules/compile.js');
  const { resolveRuleFile } = await import('../../rules/library.js');
  let bad = 0;
  for (const name of files) {
    try {
      const set = loadRuleFile(resolveRuleFile(name));
      out(`✓ ${set.file} (${set.rules.length} rule(s): ${set.rules.map((r) => r.id).join(', ')})`);
    } catch (err) {
      if (!isGsError(err)) throw err;
      bad++;
      out(`✗ ${name} [${err.code}]`);
      for (const d of err.details) out(`  ${d.file ? `${d.file}: ` : ''}${d.path || '/'}: ${d.message}`);
    }
  }
  out(`${files.length - bad} valid, ${bad} invalid`);
  return bad === 0 ? 0 : 1;
}

interface BacktestCli {
  from: string;
  to: string;
  config: string;
  device?: string;
  withEdgeRules?: boolean;
  json?: boolean;
}

/** An ISO 8601 time (or ms since the epoch) from the command line; GS_ERR_VALIDATION otherwise. */
function timeArg(v: string, name: string): number {
  const ms = /^\d+$/.test(v.trim()) ? Number(v) : Date.parse(v);
  if (!Number.isSafeInteger(ms)) throw new GsError('GS_ERR_VALIDATION', `${name} "${v}" is not a time`, [{ path: name, message: 'give an ISO 8601 time, e.g. 2026-07-01T08:00:00Z' }]);
  return ms;
}

/** `gridsense rules backtest <rule files…> --from … --to …`: which alarms the rules would have raised and cleared. */
export function addRulesBacktestCommand(rules: Command): void {
  rules
    .command('backtest')
    .description("replay the edge's stored telemetry through rule files (the live engine) and print the alarms they would have raised and cleared")
    .argument('<files...>', 'rule files (paths, or names in the rules library)')
    .requiredOption('--from <time>', 'start, ISO 8601 (e.g. 2026-07-01T08:00:00Z)')
    .requiredOption('--to <time>', 'end, ISO 8601')
    .option('-c, --config <file>', "the edge's edge.yaml: its devices, profiles and telemetry store", 'edge.yaml')
    .option('--device <id>', 'one device only')
    .option('--with-edge-rules', "also run the edge's own rule files (a file redefining one of their rule ids replaces it)")
    .option('--json', 'print the result as JSON')
    .action(async (files: string[], o: BacktestCli) => {
      process.exitCode = await runBacktest(files, o, (l) => process.stdout.write(`${l}\n`));
    });
}

export async function runBacktest(files: string[], o: BacktestCli, out: (line: string) => void): Promise<number> {
  const from = timeArg(o.from, '--from');
  const to = timeArg(o.to, '--to');
  const { loadEdgeConfig } = await import('../../edge/config.js');
  const { resolveRuleFile } = await import('../../rules/library.js');
  const { backtest } = await import('../../edge/backtest.js');
  const { createTelemetryStore } = await import('../../edge/telemetry/index.js');
  const { silentLogger } = await import('../../edge/log.js');
  const { systemScheduler } = await import('../../edge/scheduler.js');
  const { systemClock } = await import('../../contracts/clock.js');
  const config = loadEdgeConfig(o.config);
  const ruleFiles = files.map((f) => resolveRuleFile(f));
  // Never prune: a backtest reads the history, whatever its age.
  const store = createTelemetryStore(
    { ...config.telemetry, retentionMs: Number.MAX_SAFE_INTEGER },
    { dataDir: config.edge.dataDir, clock: systemClock, scheduler: systemScheduler, random: Math.random, logger: silentLogger() },
  );
  await store.start();
  try {
    const r = await backtest({ config, ruleFiles, store, from, to, ...(o.device !== undefined ? { deviceId: o.device } : {}), ...(o.withEdgeRules ? { withEdgeRules: true } : {}) });
    if (o.json) {
      out(JSON.stringify({ ...r, from: new Date(r.from).toISOString(), to: new Date(r.to).toISOString() }, null, 2));
      return 0;
    }
    for (const a of r.transitions) {
      const value = a.value === null || a.value === undefined ? '-' : `${String(a.value)}${a.unit ? ` ${a.unit}` : ''}`;
      out(`${new Date(a.ts).toISOString()}  ${a.action.toUpperCase().padEnd(6)} ${a.type}  ${a.deviceId}  ${a.point}=${value}  ${a.severity}  ${a.ruleId}  ${a.alarmId}`);
    }
    const n = (action: string) => r.transitions.filter((a) => a.action === action).length;
    out(`${n('raise')} raised, ${n('clear')} cleared, ${n('update')} updated — ${r.readings} reading(s), ${new Date(r.from).toISOString()} to ${new Date(r.to).toISOString()}, rules: ${r.ruleFiles.join(', ')}`);
    if (r.replaced.length > 0) out(`replaced by the files tried: ${r.replaced.join(', ')}`);
    for (const a of r.active) out(`still active at the end: ${a.type} on ${a.deviceId} (raised ${new Date(a.ts).toISOString()})`);
    const unconfigured = Object.entries(r.unconfigured);
    if (unconfigured.length > 0) out(`not evaluated (not in ${config.file}): ${unconfigured.map(([id, k]) => `${id} (${k})`).join(', ')}`);
    return 0;
  } finally {
    await store.stop();
  }
}
