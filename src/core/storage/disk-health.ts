import fs from 'node:fs';
import { isStorageFailure, storageUnavailable } from '../errors/storage-unavailable.ts';
import type { ImageStorage } from './image-storage.ts';

/** Where a write went: the SQLite file or the image files. */
export type WriteTarget = 'database' | 'storage';

/** What `/health` reports about the disk under `DATA_DIR`. */
export interface DiskReport {
  freeBytes: number;
  minFreeBytes: number;
  lowSpace: boolean;
  /** Targets whose last write failed within the last `failureMemoryMs` and has not succeeded since. */
  failing: WriteTarget[];
}

/** Free space is read at most this often on the request path (a statfs costs a system call). */
const spaceCheckEveryMs = 1_000;
/** A failed write counts against health for this long unless a write to the same target succeeds first. */
const failureMemoryMs = 30_000;

/**
 * Knows whether the disk under `DATA_DIR` can take a write: its free space against `MIN_FREE_DISK_MB`, and
 * the writes that failed lately. New work is refused before it holds quota or records a job when space
 * is low, so a full disk is a clear 503, not a job that cannot be written down.
 */
export class DiskHealth {
  readonly #directory: string;
  readonly #minFreeBytes: number;
  readonly #freeBytesOf: (directory: string) => number;
  readonly #now: () => number;
  readonly #failedAt = new Map<WriteTarget, number>();
  #freeBytes = Number.POSITIVE_INFINITY;
  #checkedAt = Number.NEGATIVE_INFINITY;

  constructor(dependencies: {
    directory: string;
    minFreeBytes: number;
    /** Bytes free to this process under `directory`; a test may stand in for the file system. */
    freeBytesOf?: (directory: string) => number;
    now?: () => number;
  }) {
    this.#directory = dependencies.directory;
    this.#minFreeBytes = dependencies.minFreeBytes;
    this.#freeBytesOf = dependencies.freeBytesOf ?? statfsFreeBytes;
    this.#now = dependencies.now ?? Date.now;
  }

  /** Throws the contract's 503 `storage_unavailable` when free space is under the minimum. */
  assertWritable(): void {
    if (this.#now() - this.#checkedAt >= spaceCheckEveryMs) this.#readFreeSpace();
    if (this.#freeBytes < this.#minFreeBytes) {
      throw storageUnavailable(new Error(`${this.#freeBytes} bytes free under ${this.#directory}`));
    }
  }

  /** Free space read now, and what failed lately. */
  report(): DiskReport {
    this.#readFreeSpace();
    const now = this.#now();
    const failing = [...this.#failedAt]
      .filter(([, at]) => now - at < failureMemoryMs)
      .map(([target]) => target);
    return {
      freeBytes: this.#freeBytes,
      minFreeBytes: this.#minFreeBytes,
      lowSpace: this.#freeBytes < this.#minFreeBytes,
      failing,
    };
  }

  /** A write to `target` failed on the disk (or SQLite met a damaged page): /health says so for 30 s. */
  writeFailed(target: WriteTarget): void {
    this.#failedAt.set(target, this.#now());
    // Look at the free space again on the next request rather than trust a figure from before the failure.
    this.#checkedAt = Number.NEGATIVE_INFINITY;
  }

  /** A write to `target` landed: whatever failed before is over. */
  writeSucceeded(target: WriteTarget): void {
    if (this.#failedAt.size > 0) this.#failedAt.delete(target);
  }

  #readFreeSpace(): void {
    this.#checkedAt = this.#now();
    try {
      this.#freeBytes = this.#freeBytesOf(this.#directory);
    } catch {
      // A folder that cannot be examined cannot be written either.
      this.#freeBytes = 0;
    }
  }
}

function statfsFreeBytes(directory: string): number {
  const stats = fs.statfsSync(directory);
  return stats.bavail * stats.bsize;
}

/** `storage` telling `disk` how its writes go, so a full disk shows on /health as soon as a save fails. */
export function watchStorageWrites(storage: ImageStorage, disk: DiskHealth): ImageStorage {
  return {
    kind: storage.kind,
    async save(image) {
      try {
        const saved = await storage.save(image);
        disk.writeSucceeded('storage');
        return saved;
      } catch (error) {
        if (isStorageFailure(error)) disk.writeFailed('storage');
        throw error;
      }
    },
    read: (key) => storage.read(key),
    remove: (key) => storage.remove(key),
    checkReady: () => storage.checkReady(),
    close: () => storage.close?.(),
  };
}
