import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import { openDatabase } from '../src/core/database/open-database.ts';
import { QuotaLedger } from '../src/core/quota/quota-ledger.ts';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'x-'));
const db = openDatabase(path.join(dir, 'a.sqlite'));
const ledger = new QuotaLedger(db);
const req = { userId: 'u', userLimit: 1e9, scope: undefined, images: 1, estimatedUsd: 0, budgetUsd: undefined };
const per = (n: number, f: () => void) => { const t = performance.now(); f(); return ((performance.now() - t) * 1000 / n).toFixed(2) + 'µs'; };
for (let r = 0; r < 3; r++) {
  const ids: number[] = [];
  console.log('reserve in group of 100', per(100 * 50, () => { for (let b = 0; b < 50; b++) db.transaction(() => { for (let i = 0; i < 100; i++) ids.push(ledger.reserve(req).id); }).immediate(); }));
  let k = 0;
  console.log('commit in group of 100', per(100 * 50, () => { for (let b = 0; b < 50; b++) db.transaction(() => { for (let i = 0; i < 100; i++) ledger.commit(ids[k++]!, { images: 1, costUsd: 0 }); }).immediate(); }));
  console.log('usage', per(5000, () => { for (let i = 0; i < 5000; i++) ledger.usage('u', 5); }));
}
