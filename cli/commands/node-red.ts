// `gridsense edge run` (the edge, optionally with the embedded Node-RED editor) and
// `gridsense node-red-password` (the bcrypt hash edge.yaml's nodeRed.adminPasswordHash takes).
import type { Command } from 'commander';
import { GsError } from '../../contracts/errors.js';

export function addNodeRedCommands(program: Command, edge: Command): void {
  // -c and --no-watch are the `edge` command's own options (commander hands them to the parent
  // wherever they stand), read here through optsWithGlobals.
  const run = edge
    .command('run')
    .description('run the edge agent (as `gridsense edge -c`), with --node-red the Node-RED editor inside it')
    .option('--node-red', 'run the Node-RED editor in the edge process (needs nodeRed.adminUser/adminPasswordHash in edge.yaml)')
    .option('--node-red-port <port>', 'port of the Node-RED editor (default nodeRed.port, else 1880)')
    .action(async () => {
      const o = run.optsWithGlobals<{ config?: string; watch: boolean; nodeRed?: boolean; nodeRedPort?: string }>();
      if (!o.config) run.error("error: required option '-c, --config <file>' not specified");
      let port: number | undefined;
      if (o.nodeRedPort !== undefined) {
        port = Number(o.nodeRedPort);
        if (!Number.isInteger(port) || port < 0 || port > 65535) throw new GsError('GS_ERR_VALIDATION', `--node-red-port "${o.nodeRedPort}" is not a port number (0-65535)`);
      }
      const { runEdge } = await import('../../edge/run-edge.js');
      await runEdge(o.config!, { watch: o.watch, nodeRed: { enabled: o.nodeRed === true || port !== undefined, ...(port !== undefined ? { port } : {}) } });
      // Everything of ours is closed now, but Node-RED's token store keeps an expiry timer (up to 7 days)
      // that RED.stop() does not clear: after an editor login the process would never exit on its own.
      process.exit(process.exitCode ?? 0);
    });

  program
    .command('node-red-password')
    .description('hash the Node-RED editor admin password for edge.yaml (nodeRed.adminPasswordHash, bcrypt); reads it from stdin')
    .action(async () => {
      const chunks: Buffer[] = [];
      for await (const c of process.stdin) chunks.push(c as Buffer);
      const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
      if (password.length < 8) throw new GsError('GS_ERR_VALIDATION', 'give a password of at least 8 characters on stdin (echo -n secret… | gridsense node-red-password)');
      const { hashAdminPassword } = await import('../../edge/node-red/password.js');
      process.stdout.write(`${await hashAdminPassword(password)}\n`);
    });
}
