import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path'; import { createHash } from 'node:crypto';
import { openDatabase } from '../src/core/database/open-database.ts';
import { UserAccounts } from '../src/core/accounts/user-accounts.ts';
import { ApiKeys } from '../src/core/accounts/api-keys.ts';
import { loadConfig } from '../src/config/load-config.ts';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'x-'));
const db = openDatabase(path.join(dir, 'a.sqlite'));
const accounts = new UserAccounts(db, loadConfig({}).plans); const keys = new ApiKeys(db, accounts);
const key = keys.create('u1');
const loop = (n: number, f: () => void) => { const t = performance.now(); for (let i = 0; i < n; i++) f(); return ((performance.now() - t) * 1000 / n).toFixed(2) + 'µs'; };
for (let r = 0; r < 2; r++) {
console.log('sha256', loop(50000, () => createHash('sha256').update(key).digest('hex')));
console.log('authenticate', loop(50000, () => keys.authenticate(key)));
console.log('appCaller', loop(50000, () => accounts.appCaller('u1')));
const st = db.prepare('SELECT 1'); console.log('select 1', loop(50000, () => st.get()));
}
