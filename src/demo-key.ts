import fs from 'node:fs';
import path from 'node:path';
import type { ApiKeys } from './core/accounts/api-keys.ts';

/** The user the quick start's key belongs to. */
export const demoUserId = 'demo';

/**
 * On a fresh install (no API keys at all) creates a key for the `demo` user and keeps it in
 * `<dataDir>/demo-api-key.txt` (mode 600), so every start of the quick start can print a key that works.
 * Returns that key while it is still valid; undefined once the operator has revoked it or made their own.
 */
export async function ensureDemoKey(apiKeys: ApiKeys, dataDir: string): Promise<string | undefined> {
  const file = path.join(dataDir, 'demo-api-key.txt');
  if (fs.existsSync(file)) {
    const saved = fs.readFileSync(file, 'utf8').trim();
    return (await apiKeys.authenticate(saved))?.userId === demoUserId ? saved : undefined;
  }
  if ((await apiKeys.count()) > 0) return undefined;
  const key = await apiKeys.create(demoUserId, { label: 'quick start' });
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return key;
}
