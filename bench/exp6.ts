import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import { openDatabase } from '../src/core/database/open-database.ts';
import { QuotaLedger } from '../src/core/quota/quota-ledger.ts';
import { GenerationRecords } from '../src/core/generation/generation-records.ts';
import { newRecordId } from '../src/core/database/record-id.ts';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'x-'));
const db = openDatabase(path.join(dir, 'a.sqlite'));
db.prepare("INSERT INTO users (id, plan, created_at) VALUES ('u', 'free', 'x')").run();
const ledger = new QuotaLedger(db); const records = new GenerationRecords(db);
const loop = (n: number, f: (i: number) => void) => { const t = performance.now(); for (let i = 0; i < n; i++) f(i); return Math.round(1e6 / (n / ((performance.now() - t) / 1000)) * 10) / 10; };
const req = { userId: 'u', userLimit: 1e9, scope: undefined, images: 1, estimatedUsd: 0.003, budgetUsd: undefined };
const ids: number[] = [];
const record = (rid: number) => ({ id: newRecordId(new Date()), userId: 'u', reservationId: rid, batchId: undefined, source: 'api', prompt: 'Flutter logo in office of pakistan', promptUsed: 'Flutter logo in office of pakistan, photorealistic, natural lighting, sharp focus, 35mm photograph, highly detailed, balanced composition, high resolution', negativePrompt: 'cartoon, illustration, painting, drawing, 3d render, cgi, low quality, blurry, watermark, jpeg artifacts', style: 'realistic', model: 'placeholder', seed: 12345, width: 1024, height: 1024, quality: 'high', costUsd: 0, generationMs: 3, storageKey: 'images/u/x.png', imageUrl: 'http://localhost:8000/images/u/x.png', contentType: 'image/png', providerRequestId: undefined, warnings: [], createdAt: new Date(), revisedPrompt: undefined });
for (let r = 0; r < 2; r++) {
  console.log('reserve µs', loop(5000, () => ids.push(ledger.reserve(req).id)));
  console.log('commit µs', loop(5000, (i) => ledger.commit(ids[i + r * 5000]!, { images: 1, costUsd: 0 })));
  const more: number[] = []; for (let i = 0; i < 5000; i++) more.push(ledger.reserve(req).id);
  console.log('insert record µs', loop(5000, (i) => db.transaction(() => records.insert(record(more[i]!) as never))()));
  const m2: number[] = []; for (let i = 0; i < 5000; i++) m2.push(ledger.reserve(req).id);
  console.log('commit+insert µs', loop(5000, (i) => db.transaction(() => { ledger.commit(m2[i]!, { images: 1, costUsd: 0 }); records.insert(record(m2[i]!) as never); })()));
  const m3: number[] = []; for (let i = 0; i < 5000; i++) m3.push(ledger.reserve(req).id);
  console.log('commit+insert grouped by 5, µs per item', loop(1000, (i) => db.transaction(() => { for (let k = 0; k < 5; k++) { const id = m3[i * 5 + k]!; ledger.commit(id, { images: 1, costUsd: 0 }); records.insert(record(id) as never); } })()) / 5);
  console.log('reserve grouped by 5, µs per item', loop(1000, () => db.transaction(() => { for (let k = 0; k < 5; k++) ledger.reserve(req); })()) / 5);
  console.log('usage µs', loop(5000, () => ledger.usage('u', 5)));
}
fs.rmSync(dir, { recursive: true });
