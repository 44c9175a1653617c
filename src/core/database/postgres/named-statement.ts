import type { Queryable } from './queryable.ts';

/** A statement's text with `{name}` placeholders turned into `$1…$n` once, and the name of each. */
export interface NamedStatement {
  readonly text: string;
  readonly names: readonly string[];
}

/**
 * Compiles `text`, whose values are written `{name}` (a name may recur: it is one parameter). For the
 * request path's few large statements, built from pieces once per shape and kept: the driver's tagged
 * templates rebuild every nested fragment's text and objects per call, which on PostgreSQL's hot path
 * cost more main-thread time than the round trips they saved.
 */
export function namedStatement(text: string): NamedStatement {
  const names: string[] = [];
  const compiled = text.replace(/\{(\w+)\}/g, (_, name: string) => {
    const index = names.indexOf(name);
    if (index >= 0) return `$${index + 1}`;
    names.push(name);
    return `$${names.length}`;
  });
  return { text: compiled, names };
}

/**
 * Runs `statement` as a prepared statement, each name's value taken from the first of `sources` that has
 * it (each piece of a statement brings its own: merging them into one object by spreading costs tens of
 * microseconds in V8, more than the statement's own work). Every name must have a value.
 */
export function runNamed<Row extends object>(
  sql: Queryable,
  statement: NamedStatement,
  ...sources: readonly Readonly<Record<string, unknown>>[]
): Promise<Row[]> {
  const parameters = statement.names.map((name) => {
    for (const source of sources) {
      const value = source[name];
      if (value !== undefined) return value;
    }
    throw new Error(`no value for {${name}}`);
  });
  return sql.unsafe(statement.text, parameters as never[], { prepare: true }) as unknown as Promise<Row[]>;
}

/** One compiled statement per shape `key`, made by `build` the first time the shape is asked for. */
export class StatementCache {
  readonly #statements = new Map<string, NamedStatement>();

  get(key: string, build: () => string): NamedStatement {
    let statement = this.#statements.get(key);
    if (!statement) {
      statement = namedStatement(build());
      this.#statements.set(key, statement);
    }
    return statement;
  }
}
