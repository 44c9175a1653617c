import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import { openDatabase } from '../src/core/database/open-database.ts';
import { newRecordId } from '../src/core/database/record-id.ts';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'x-'));
const db = openDatabase(path.join(dir, 'a.sqlite'));
const loop = (n: number, f: (i: number) => void) => { const t = performance.now(); for (let i = 0; i < n; i++) f(i); return Math.round(1e6 / (n / ((performance.now() - t) / 1000)) * 10) / 10; };
const cols = `user_id TEXT NOT NULL, prompt TEXT NOT NULL, prompt_used TEXT NOT NULL, negative_prompt TEXT, image_url TEXT NOT NULL, created_at TEXT NOT NULL`;
const variants: [string, string][] = [
  ['text pk + by_user', `CREATE TABLE t1 (id TEXT PRIMARY KEY, ${cols}); CREATE INDEX t1u ON t1(user_id, created_at DESC, id DESC)`],
  ['text pk only', `CREATE TABLE t2 (id TEXT PRIMARY KEY, ${cols})`],
  ['int pk + by_user(user,id)', `CREATE TABLE t3 (id INTEGER PRIMARY KEY, public_id TEXT NOT NULL, ${cols}); CREATE INDEX t3u ON t3(user_id, id)`],
  ['int pk + unique public + by_user', `CREATE TABLE t4 (id INTEGER PRIMARY KEY, public_id TEXT NOT NULL UNIQUE, ${cols}); CREATE INDEX t4u ON t4(user_id, id)`],
  ['without rowid pk(user,id)', `CREATE TABLE t5 (id TEXT NOT NULL, ${cols}, PRIMARY KEY (user_id, id)) WITHOUT ROWID`],
  ['int pk only', `CREATE TABLE t6 (id INTEGER PRIMARY KEY, public_id TEXT NOT NULL, ${cols})`],
];
const pu = 'Flutter logo in office of pakistan, photorealistic, natural lighting, sharp focus, 35mm photograph, highly detailed, balanced composition, high resolution';
for (const [name, ddl] of variants) {
  db.exec(ddl);
  const t = ddl.match(/CREATE TABLE (\w+)/)![1];
  const hasPublic = ddl.includes('public_id');
  const st = db.prepare(`INSERT INTO ${t} (${hasPublic ? 'public_id' : 'id'}, user_id, prompt, prompt_used, negative_prompt, image_url, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const f = (i: number) => st.run(newRecordId(new Date()), 'user' + (i % 100), 'Flutter logo in office of pakistan', pu, 'cartoon, illustration, painting', 'http://localhost:8000/images/u/0193.png', new Date().toISOString());
  loop(2000, f);
  console.log(name.padEnd(36), loop(10000, f), 'µs');
}
fs.rmSync(dir, { recursive: true });
