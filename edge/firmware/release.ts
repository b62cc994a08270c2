// Edge agent releases on disk: `<dataDir>/releases/<version>/` each an unpacked release (its package.json
// carries the version, `bin/gridsense.js` starts it), and `<dataDir>/current`, a symlink to the one that
// runs. Switching is one rename of a fresh symlink over `current` — atomic, so a power cut leaves either
// the old or the new release current, never neither.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { GsError } from '../../contracts/errors.js';

const run = promisify(execFile);

/** The script a release starts with (relative to the release folder). */
export const RELEASE_ENTRY = 'bin/gridsense.js';
/** A version becomes a folder name: nothing that could climb out of releases/. */
const VERSION = /^[0-9A-Za-z][0-9A-Za-z._+-]{0,63}$/;

export function releasesDir(dataDir: string): string {
  return join(dataDir, 'releases');
}

export function currentLink(dataDir: string): string {
  return join(dataDir, 'current');
}

export function isReleaseVersion(v: string): boolean {
  return VERSION.test(v) && !v.includes('..');
}

/** The version in a release folder's package.json; undefined when it has none. */
export function releaseVersion(dir: string): string | undefined {
  try {
    const v = (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** Where `current` points (absolute), or undefined when there is no link yet. */
export function currentRelease(dataDir: string): string | undefined {
  const link = currentLink(dataDir);
  try {
    const target = readlinkSync(link);
    return isAbsolute(target) ? target : resolve(dataDir, target);
  } catch {
    return undefined;
  }
}

/** Points `current` at `dir`, atomically. */
export function switchCurrent(dataDir: string, dir: string): void {
  mkdirSync(dataDir, { recursive: true });
  const tmp = join(dataDir, `.current-${process.pid}-${Date.now()}`);
  rmSync(tmp, { force: true });
  symlinkSync(resolve(dir), tmp, 'dir');
  renameSync(tmp, currentLink(dataDir));
}

/**
 * Unpacks a release tarball (tar.gz, package.json at its root) into releases/<version>/ with the system
 * `tar`. Throws GS_ERR_FIRMWARE_UNSUPPORTED when the tarball does not hold that version's release.
 */
export async function unpackRelease(tarball: string, dataDir: string, version: string): Promise<string> {
  if (!isReleaseVersion(version)) throw new GsError('GS_ERR_FIRMWARE_UNSUPPORTED', `"${version}" cannot name a release folder`);
  const root = releasesDir(dataDir);
  mkdirSync(root, { recursive: true });
  const tmp = join(root, `.unpack-${version}-${process.pid}-${Date.now()}`);
  mkdirSync(tmp);
  try {
    await run('tar', ['-xzf', tarball, '-C', tmp, '--no-same-owner', '--no-same-permissions']);
  } catch (err) {
    rmSync(tmp, { recursive: true, force: true });
    throw new GsError('GS_ERR_FIRMWARE_UNSUPPORTED', `edge release ${version} is not a tar.gz that unpacks: ${String((err as { stderr?: string }).stderr ?? err).slice(0, 300)}`);
  }
  const found = releaseVersion(tmp);
  if (found !== version || !existsSync(join(tmp, RELEASE_ENTRY))) {
    rmSync(tmp, { recursive: true, force: true });
    throw new GsError('GS_ERR_FIRMWARE_UNSUPPORTED', `edge release tarball holds ${found === undefined ? 'no package.json version' : `version ${found}`}${existsSync(join(tmp, RELEASE_ENTRY)) ? '' : ` and no ${RELEASE_ENTRY}`}; the image says ${version}`);
  }
  const dest = join(root, version);
  rmSync(dest, { recursive: true, force: true });
  renameSync(tmp, dest);
  return dest;
}
