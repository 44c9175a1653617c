import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The service's own version, from the nearest package.json above this module: `src/http` when run from
 * source, `dist/http` from a build, wherever that build was written (a build elsewhere falls back to the
 * working directory's package.json, which is how the server is started).
 */
export function packageVersion(from: string = import.meta.dirname): string {
  for (let folder = from; ; folder = path.dirname(folder)) {
    const candidate = path.join(folder, 'package.json');
    if (existsSync(candidate)) return versionIn(candidate);
    if (path.dirname(folder) === folder) break;
  }
  const fromWorkingDirectory = path.join(process.cwd(), 'package.json');
  return existsSync(fromWorkingDirectory) ? versionIn(fromWorkingDirectory) : '0.0.0';
}

function versionIn(file: string): string {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown };
  return typeof parsed.version === 'string' ? parsed.version : '0.0.0';
}
