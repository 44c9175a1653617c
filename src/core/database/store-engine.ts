import type { Logger } from 'pino';
import type { Config } from '../../config/load-config.ts';
import type { GenerationWrites } from '../generation/generation-writes.ts';
import type { SqliteDatabase } from './open-database.ts';
import type { StoreEngineName, Stores } from './stores.ts';
import type { CommitListener } from './write-batcher.ts';

/** An open database engine: every store on it, and the request path's cross-store writes. */
export interface StoreEngine {
  readonly name: StoreEngineName;
  readonly stores: Stores;
  /** Hold, charge and release for the generator: one commit each, grouped with what is queued alongside. */
  readonly generationWrites: GenerationWrites;
  /** The SQLite file's handle (the CLI and tests read it); undefined on PostgreSQL. */
  readonly sqlite: SqliteDatabase | undefined;
  /** Commits what is queued and closes the database; call once, after the last request is done. */
  close(): Promise<void>;
}

/** What opening an engine needs from the composition root. */
export interface StoreEngineOptions {
  config: Config;
  logger: Logger;
  now: () => Date;
  /** Told how each group commit went, so /health can say when the disk under DATA_DIR refuses writes. */
  commits: CommitListener;
}

/** One engine: whether the config selects it, and how to open it. Registered in `store-engines.ts`. */
export interface StoreEngineDescriptor {
  name: StoreEngineName;
  selectedBy(config: Config): boolean;
  open(options: StoreEngineOptions): Promise<StoreEngine>;
}
