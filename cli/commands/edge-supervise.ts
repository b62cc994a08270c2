// `gridsense edge supervise -c edge.yaml`: the edge agent under its supervisor (self-update with rollback).
import type { Command } from 'commander';

export function addEdgeSuperviseCommand(edge: Command): void {
  edge
    .command('supervise')
    .description('run the edge agent under a supervisor (-c edge.yaml): applies edge self-update jobs, rolls back a release that does not report healthy, restarts a crashed agent')
    .option('--health-deadline <seconds>', 'how long a new release has to report healthy', '120')
    .action(async (o: { healthDeadline: string }, cmd: Command) => {
      // `-c, --config` belongs to `gridsense edge` (commander gives it to the parent wherever it is written).
      const config = (cmd.parent?.opts() as { config?: string } | undefined)?.config;
      if (!config) cmd.error("error: required option '-c, --config <file>' not specified");
      const { superviseEdge } = await import('../../edge/firmware/supervise-main.js');
      await superviseEdge(config!, { healthDeadlineMs: Math.max(1, Number(o.healthDeadline) || 120) * 1000 });
    });
}
