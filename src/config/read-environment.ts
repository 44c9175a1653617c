import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'dotenv';

/**
 * The variables the service starts with: a `.env` file in the working directory (what `.env.example`
 * invites operators to write; `ENV_FILE` names another, `ENV_FILE=none` reads none), overridden by the real
 * environment (a process manager's settings win). The file is read, never written into `process.env`, so
 * nothing else can come to depend on it.
 */
export function readEnvironment(
  variables: Readonly<Record<string, string | undefined>>,
  directory: string = process.cwd(),
): Record<string, string | undefined> {
  if (variables.ENV_FILE === 'none') return { ...variables };
  const file = path.resolve(directory, variables.ENV_FILE || '.env');
  const fromFile = fs.existsSync(file) ? parse(fs.readFileSync(file)) : {};
  return { ...fromFile, ...variables };
}
