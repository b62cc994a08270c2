// The devices the embedded broker lets in. It learns them from the driver sessions opened (a device in
// edge.yaml is an account while its session is open), so there is no second list to keep in step.
import { createHash, timingSafeEqual } from 'node:crypto';
import { GsError } from '../../contracts/errors.js';
import { plainPasswordMatches, verifyPassword } from './password.js';

export type DeviceSecret = { passwordHash: string } | { password: string };

export interface DeviceAccount {
  deviceId: string;
  username: string;
  secret: DeviceSecret;
  /** The topic prefix it may use, ending in `/`. */
  root: string;
}

interface Entry {
  account: DeviceAccount;
  refs: number;
  /** sha256 of the last password that passed scrypt, so reconnect storms do not cost one scrypt each. */
  verified?: Buffer;
}

export class DeviceAccounts {
  private readonly byUsername = new Map<string, Entry>();

  /**
   * Adds the account (or one more reference to the same device's account); returns its removal.
   * Throws GS_ERR_MQTT_ACCOUNT_CONFLICT when another device already uses the username or the root.
   */
  add(account: DeviceAccount): () => void {
    for (const e of this.byUsername.values()) {
      if (e.account.deviceId === account.deviceId) continue;
      if (e.account.username === account.username) {
        throw new GsError('GS_ERR_MQTT_ACCOUNT_CONFLICT', `MQTT username "${account.username}" is used by devices ${e.account.deviceId} and ${account.deviceId}`);
      }
      if (e.account.root.startsWith(account.root) || account.root.startsWith(e.account.root)) {
        throw new GsError('GS_ERR_MQTT_ACCOUNT_CONFLICT', `topic roots "${e.account.root}" (${e.account.deviceId}) and "${account.root}" (${account.deviceId}) overlap`);
      }
    }
    let entry = this.byUsername.get(account.username);
    if (!entry) {
      entry = { account, refs: 0 };
      this.byUsername.set(account.username, entry);
    } else if (!sameAccount(entry.account, account)) {
      // The device's session was reopened with new credentials: the newest config wins.
      entry.account = account;
      delete entry.verified;
    }
    entry.refs++;
    const held = entry;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      held.refs--;
      if (held.refs === 0 && this.byUsername.get(held.account.username) === held) this.byUsername.delete(held.account.username);
    };
  }

  get(username: string): DeviceAccount | undefined {
    return this.byUsername.get(username)?.account;
  }

  /** The account when the username exists and the password is right; undefined otherwise. */
  async authenticate(username: string, password: Buffer | undefined): Promise<{ account?: DeviceAccount; reason?: 'unknown_user' | 'bad_password' }> {
    const entry = this.byUsername.get(username);
    if (!entry) return { reason: 'unknown_user' };
    const { account } = entry;
    if (password === undefined) return { account, reason: 'bad_password' };
    const digest = createHash('sha256').update(password).digest();
    if ('password' in account.secret) {
      return plainPasswordMatches(password, account.secret.password) ? { account } : { account, reason: 'bad_password' };
    }
    if (entry.verified && timingSafeEqual(entry.verified, digest)) return { account };
    const ok = await verifyPassword(password, account.secret.passwordHash);
    // The account may have been replaced while scrypt ran; cache only against the entry that checked.
    if (ok && this.byUsername.get(username) === entry && entry.account === account) entry.verified = digest;
    return ok ? { account } : { account, reason: 'bad_password' };
  }

  get size(): number {
    return this.byUsername.size;
  }
}

function sameAccount(a: DeviceAccount, b: DeviceAccount): boolean {
  return a.root === b.root && JSON.stringify(a.secret) === JSON.stringify(b.secret);
}
