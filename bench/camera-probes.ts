// Camera health probing and alarm snapshots on one edge. 50 live H.264 streams (one GStreamer RTSP
// server, /cam/1 … /cam/50, each its own encoder) are probed by the edge's RtspProber through its
// shared pool (4 at once, as the camera drivers run it): how long one cycle over all of them takes,
// and the CPU it costs (this process plus its ffprobe / ffmpeg children). Then the snapshot path of a
// rule action, end to end: alarm → ffmpeg frame of the camera's stream → durable evidence queue →
// upload → the JPEG stored in a real cloud (SQLite), timed until the event lists it as available.
// The anchor, in the same run against the same server: one plain `ffprobe` of one stream.
//
//   npx tsx bench/camera-probes.ts   (BENCH_CAMERAS=50, BENCH_SAMPLE=2 s, BENCH_ANALYSE=0 s, BENCH_SNAPSHOTS=10)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../contracts/clock.js';
import { startCloud } from '../cloud/server.js';
import { RtspProber } from '../edge/cameras/rtsp-probe.js';
import { Snapshotter } from '../edge/cameras/snapshot.js';
import { resolveRtsp } from '../edge/drivers/camera/connection.js';
import { EvidenceQueue } from '../edge/evidence/queue.js';
import { EvidenceUploader } from '../edge/evidence/uploader.js';
import { silentLogger } from '../edge/log.js';
import { openStateDb } from '../edge/outbox/sqlite.js';
import { systemScheduler } from '../edge/scheduler.js';
import { GstRtspServer, gstRtspServerAvailable } from '../test/helpers/rtsp-server.js';
import { fmt, quantiles, table } from './_lib.js';

const CAMERAS = Number(process.env.BENCH_CAMERAS ?? 50);
const SAMPLE_S = Number(process.env.BENCH_SAMPLE ?? 2);
const ANALYSE_S = Number(process.env.BENCH_ANALYSE ?? 0);
const SNAPSHOTS = Number(process.env.BENCH_SNAPSHOTS ?? 10);
const CONCURRENCY = 4;
const ADMIN = 'gsa_bench-admin-token-0000000000000';
const GRIDS = new URL('../demo/sample-county.geojson', import.meta.url);

/** CPU of this process and of its children that have exited (ffprobe / ffmpeg), ms: /proc/self/stat utime+stime, cutime+cstime. */
function cpuMs(): { self: number; children: number } {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
  const tick = 10; // CLK_TCK 100 on Linux
  return { self: (Number(fields[11]) + Number(fields[12])) * tick, children: (Number(fields[13]) + Number(fields[14])) * tick };
}

function delta(a: ReturnType<typeof cpuMs>, b: ReturnType<typeof cpuMs>) {
  return { self: b.self - a.self, children: b.children - a.children };
}

/** A plain ffprobe of one stream, as a technician would type it; wall time and its CPU. */
async function plainFfprobe(url: string): Promise<{ ms: number; cpu: number; ok: boolean }> {
  const c0 = cpuMs();
  const t0 = performance.now();
  const code = await new Promise<number | null>((resolve) => {
    const p = spawn('ffprobe', ['-v', 'error', '-rtsp_transport', 'tcp', '-show_streams', '-of', 'json', url], { stdio: ['ignore', 'ignore', 'ignore'] });
    p.once('close', resolve);
  });
  const ms = performance.now() - t0;
  return { ms, cpu: delta(c0, cpuMs()).children, ok: code === 0 };
}

async function main(): Promise<void> {
  if (!gstRtspServerAvailable()) {
    console.log('SKIP: needs the GStreamer RTSP server (gir1.2-gst-rtsp-server-1.0, python3-gi, gstreamer1.0-plugins-ugly)');
    return;
  }
  const rtsp = await new GstRtspServer({ width: 320, height: 240, fps: 10, gop: 10, bitrateKbps: 256, cameras: CAMERAS }).start();
  const dir = mkdtempSync(join(tmpdir(), 'gridsense-bench-cameras-'));
  try {
    const urls = Array.from({ length: CAMERAS }, (_, i) => rtsp.url(`cam/${i + 1}`));

    // ---- the anchor ---------------------------------------------------------------------------
    await plainFfprobe(urls[0]!); // warm-up: the server's first session starts its pipeline
    const anchor = await plainFfprobe(urls[0]!);
    if (!anchor.ok) throw new Error('plain ffprobe failed');

    // ---- one probe cycle over every camera ------------------------------------------------------
    const prober = new RtspProber({ concurrency: CONCURRENCY, defaults: { sampleSeconds: SAMPLE_S, analyseSeconds: ANALYSE_S } });
    const c0 = cpuMs();
    const t0 = performance.now();
    const results = await Promise.all(urls.map((u, i) => prober.probe(`cam-${i + 1}`, u)));
    const cycleMs = performance.now() - t0;
    const cycleCpu = delta(c0, cpuMs());
    await prober.stop();
    const failed = results.filter((r) => !r.ok);
    if (failed.length > 0) throw new Error(`${failed.length} probes failed, e.g. ${JSON.stringify(failed[0])}`);
    const probeQ = quantiles(results.map((r) => r.tookMs).sort((a, b) => a - b));

    // ---- snapshot latency: alarm → JPEG stored in the cloud --------------------------------------
    const cloud = await startCloud({ port: 0, host: '127.0.0.1', db: join(dir, 'cloud.db'), adminToken: ADMIN, logger: false });
    const admin = { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` };
    await fetch(`${cloud.url}/api/v1/grids/import`, { method: 'POST', headers: admin, body: readFileSync(GRIDS, 'utf8') });
    const { token } = (await (await fetch(`${cloud.url}/api/v1/edges`, { method: 'POST', headers: admin, body: JSON.stringify({ id: 'town-bench', name: 'Bench' }) })).json()) as { token: string };
    const db = openStateDb(join(dir, 'edge.db'));
    const queue = new EvidenceQueue(db, dir, systemClock);
    const uploader = new EvidenceUploader({ url: cloud.url, token, queue, scheduler: systemScheduler, random: Math.random, logger: silentLogger() });
    uploader.start();
    const snapshotter = new Snapshotter({ concurrency: 2 });
    const snapMs: number[] = [];
    const totalMs: number[] = [];
    const snapCpu0 = cpuMs();
    for (let i = 0; i < SNAPSHOTS; i++) {
      const alarmId = `bench-snap-${Date.now().toString(36)}-${i}`;
      // The alarm reaches the cloud as the edge's outbox would send it; the picture follows apart.
      await fetch(`${cloud.url}/api/v1/alarms`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ alarms: [{ alarmId, seq: 0, action: 'raise', type: 'smoke_alarm', severity: 'critical', deviceId: `smoke-${i}`, location: { lon: 101.04, lat: 38.8 }, ts: Date.now() }] }),
      });
      const a0 = performance.now();
      const cam = (i % CAMERAS) + 1;
      const snap = await snapshotter.take(`cam-${cam}`, resolveRtsp({ protocol: 'rtsp', url: urls[cam - 1]! }));
      snapMs.push(performance.now() - a0);
      queue.put(alarmId, `cam-${cam}`, snap.jpeg, snap.takenAt);
      uploader.nudge();
      // Stored: the uploader leaves an item only when the cloud acked both the bytes and the link.
      while (queue.depth() > 0) await new Promise((r) => setTimeout(r, 2));
      totalMs.push(performance.now() - a0);
    }
    const snapCpu = delta(snapCpu0, cpuMs());
    await uploader.stop();
    await snapshotter.stop();
    db.close();
    await cloud.close();

    // ---- report ---------------------------------------------------------------------------------
    const sq = quantiles([...snapMs].sort((a, b) => a - b));
    const tq = quantiles([...totalMs].sort((a, b) => a - b));
    const cores = (ms: number, wall: number) => (ms / wall).toFixed(2);
    console.log(`\n${CAMERAS} live RTSP streams (320x240 H.264, 10 fps, GOP 1 s) on one GStreamer server; prober pool ${CONCURRENCY} at once, ffprobe sample ${SAMPLE_S} s, picture analysis ${ANALYSE_S} s.\n`);
    console.log(table(
      ['what', 'wall', 'CPU (this process)', 'CPU (ffprobe/ffmpeg)', 'cores used'],
      [
        ['anchor: one plain `ffprobe -show_streams` of one stream', `${fmt(anchor.ms)} ms`, '-', `${fmt(anchor.cpu)} ms`, cores(anchor.cpu, anchor.ms)],
        [`probe cycle over ${CAMERAS} streams (RtspProber)`, `${(cycleMs / 1000).toFixed(1)} s`, `${fmt(cycleCpu.self)} ms`, `${fmt(cycleCpu.children)} ms`, cores(cycleCpu.self + cycleCpu.children, cycleMs)],
        ['  per stream', `${fmt(cycleMs / CAMERAS)} ms`, `${fmt(cycleCpu.self / CAMERAS)} ms`, `${fmt(cycleCpu.children / CAMERAS)} ms`, ''],
      ],
    ));
    console.log(`\nOne probe: p50 ${fmt(probeQ(0.5))} ms, p99 ${fmt(probeQ(0.99))} ms (each reads ${SAMPLE_S} s of packets). One cycle costs ${(cycleMs / anchor.ms).toFixed(1)}× the wall time and ${((cycleCpu.self + cycleCpu.children) / Math.max(1, anchor.cpu)).toFixed(1)}× the CPU of the plain ffprobe.\n`);
    console.log(table(
      ['snapshot (rule action)', 'p50', 'max', 'CPU per snapshot'],
      [
        ['alarm → JPEG in hand (ffmpeg frame of the stream)', `${fmt(sq(0.5))} ms`, `${fmt(sq(1))} ms`, `${fmt((snapCpu.children) / SNAPSHOTS)} ms (ffmpeg)`],
        ['alarm → JPEG stored in the cloud (queue, upload, link)', `${fmt(tq(0.5))} ms`, `${fmt(tq(1))} ms`, `${fmt(snapCpu.self / SNAPSHOTS)} ms (edge + cloud process)`],
      ],
    ));
    console.log(`\n${SNAPSHOTS} snapshots, one after another, each of another camera.`);
  } finally {
    await rtsp.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
