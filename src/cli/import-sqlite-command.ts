import {
  importSqlite,
  type SqliteImportProgress,
  type SqliteImportReport,
} from '../core/database/import-sqlite/import-sqlite.ts';
import { createPostgresPool, type PostgresOptions } from '../core/database/postgres/open-postgres.ts';
import { describePostgres } from './import-target.ts';

/**
 * `db import-sqlite <file>`: copies the SQLite database into the empty PostgreSQL one, printing each table
 * as it goes and the checked counts at the end. A refusal or failure throws (`SqliteImportError`) with
 * nothing written; the caller prints it and exits 1.
 */
export async function importSqliteCommand(
  file: string,
  postgres: PostgresOptions,
  print: (line: string) => void = console.log,
): Promise<SqliteImportReport> {
  // The pool is opened bare: the import migrates it only once it has found the database empty.
  const sql = createPostgresPool(postgres);
  try {
    print(`Importing ${file} into PostgreSQL at ${describePostgres(postgres.url)}`);
    const report = await importSqlite({ file, sql, onProgress: progressPrinter(print) });
    printReport(report, print);
    return report;
  } finally {
    await sql.end();
  }
}

/** A line when a table starts, then at every tenth of a large one, and when it is done. */
function progressPrinter(print: (line: string) => void): (progress: SqliteImportProgress) => void {
  let nextTenth = 0;
  return (progress) => {
    if (progress.kind === 'migrating-copy') {
      print(
        `The file is at SQLite schema version ${progress.from}; migrating a copy to version ${progress.to} ` +
          `at ${progress.file} (the file itself is not changed)`,
      );
      return;
    }
    const { table, copied, total } = progress;
    if (copied === 0) {
      nextTenth = 1;
      print(`  ${table}: ${total} ${total === 1 ? 'row' : 'rows'} to copy`);
      return;
    }
    if (copied >= total) {
      print(`  ${table}: ${copied} copied`);
      return;
    }
    if (copied >= (total * nextTenth) / 10) {
      print(`  ${table}: ${copied} of ${total} (${Math.floor((copied * 100) / total)}%)`);
      nextTenth = Math.floor((copied * 10) / total) + 1;
    }
  };
}

function printReport(report: SqliteImportReport, print: (line: string) => void): void {
  print('');
  print("Committed. Each table's count in PostgreSQL, checked against SQLite's before the commit:");
  const width = Math.max(...report.copied.map((table) => table.name.length), 'table'.length);
  for (const table of report.copied) {
    const leftOut = table.sqliteRows - table.selectedRows;
    const note = table.note
      ? `  (${table.note}${leftOut > 0 ? `; ${leftOut} rows of earlier periods left out` : ''})`
      : '';
    print(`  ${table.name.padEnd(width)}  ${String(table.postgresRows).padStart(9)}${note}`);
  }
  print('Not copied:');
  for (const table of report.skipped) {
    print(`  ${table.name.padEnd(width)}  ${String(table.rows).padStart(9)}  (${table.reason})`);
  }
}
