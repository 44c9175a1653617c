/**
 * `npm run bench`: the speed targets of the core and REST API, each as a ratio against a baseline
 * measured in the same run on the same machine. Targets: API ≥ 30% of bare Fastify, ledger ≥ 50% of
 * raw inserts. Exits non-zero when a target is missed.
 */
import { runApiBenchmark } from './api-benchmark.ts';
import { runLedgerBenchmark } from './ledger-benchmark.ts';

const seconds = Number(process.env.BENCH_SECONDS ?? 5);
const percent = (ratio: number) => `${(ratio * 100).toFixed(0)}%`;
const whole = (value: number) => Math.round(value).toLocaleString('en-US');

console.log(`imagine benchmarks (node ${process.version}, ${seconds}s per HTTP run, 10 connections)\n`);

const api = await runApiBenchmark(seconds);
console.log('POST /api/v1/generate/image (instant in-memory model and storage)');
for (const [name, figures] of [
  ['bare Fastify route', api.bare],
  ['imagine API', api.imagine],
] as const) {
  console.log(
    `  ${name.padEnd(20)} ${whole(figures.requestsPerSecond).padStart(8)} req/s   p50 ${figures.p50Ms} ms   p99 ${figures.p99Ms} ms` +
      (figures.non2xx + figures.errors > 0 ? `   (${figures.non2xx} non-2xx, ${figures.errors} errors)` : ''),
  );
}
console.log(`  ratio: ${percent(api.ratio)} of bare Fastify (target ≥ 30%)\n`);

const ledger = runLedgerBenchmark(20_000);
console.log('Quota ledger (SQLite WAL file, one transaction per operation)');
console.log(`  raw better-sqlite3 insert ${whole(ledger.rawPerSecond).padStart(9)} /s`);
console.log(`  ledger.reserve()          ${whole(ledger.reservationsPerSecond).padStart(9)} /s`);
console.log(`  ratio: ${percent(ledger.ratio)} of raw inserts (target ≥ 50%)`);

const failures = [
  api.ratio < 0.3 && 'API below 30% of bare Fastify',
  ledger.ratio < 0.5 && 'ledger below 50% of raw inserts',
  api.imagine.non2xx + api.imagine.errors > 0 && 'the API answered with errors under load',
].filter(Boolean);
if (failures.length > 0) {
  console.log(`\nMISSED: ${failures.join('; ')}`);
  process.exitCode = 1;
}
