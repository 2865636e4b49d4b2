// The CLI's commands as functions, so tests can run them without spawning a process.
import type { LatchkeyConfig } from '../config/types.js';
import { openStorage } from '../adapters/open-storage.js';
import { createServices } from '../latchkey.js';

export async function runMigrate(config: LatchkeyConfig): Promise<string> {
  const storage = await openStorage(config, { migrate: true });
  await storage.close();
  return 'migrations applied';
}

export async function runKeysRotate(config: LatchkeyConfig): Promise<string> {
  const services = await createServices(config);
  try {
    const key = await services.keys.rotate();
    await services.audit.record('key_rotated', { detail: { kid: key.kid, alg: key.alg } });
    return `signing with new key ${key.kid} (${key.alg}); running servers switch within ${config.keys.reloadInterval} s`;
  } finally {
    await services.close();
  }
}

export async function runUsersCreate(
  config: LatchkeyConfig,
  email: string,
  password: string,
  roles: readonly string[],
): Promise<{ ok: boolean; message: string }> {
  const services = await createServices(config);
  try {
    const result = await services.accounts.signUp(
      email,
      password,
      { ip: null, userAgent: 'latchkey-cli' },
      roles,
    );
    if (result.ok)
      return { ok: true, message: `created user ${result.user.id} (${result.user.email})` };
    switch (result.reason) {
      case 'invalid_email':
        return { ok: false, message: 'email is not a valid address' };
      case 'email_taken':
        return { ok: false, message: 'an account with this email already exists' };
      case 'weak_password':
        return { ok: false, message: result.detail };
      case 'rate_limited':
        return { ok: false, message: 'too many sign-ups; try again later' };
    }
  } finally {
    await services.close();
  }
}
