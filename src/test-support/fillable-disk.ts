/**
 * A disk a test can fill up and free again. As root (CI, the dev container) it is a real tmpfs the test
 * mounts, so SQLite and image writes meet a real ENOSPC; where mounting is not allowed, the same faults are
 * injected where the file system would raise them (free space, image writes, SQLite writes). Which one
 * runs is decided at run time, so both stay valid code paths and neither is ever skipped.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLocalImageStorage } from '../core/storage/local-image-storage.ts';
import type { ServiceOverrides, Services } from '../services.ts';
import { sqliteOf } from './sqlite-of.ts';

/** A disk to put DATA_DIR on. */
export interface FillableDisk {
  kind: 'tmpfs' | 'injected';
  dataDir: string;
  /** What the services must be built with (stand-ins, on the injected disk). */
  overrides(publicBaseUrl: string): ServiceOverrides;
  /** Called once the services exist: the injected disk hooks the database. */
  attach(services: Services): void;
  fill(): void;
  free(): void;
  /** Unmounts and removes the folder; after the services are closed. */
  dispose(): void;
}

/** A tmpfs of `sizeMb` when this process may mount one, else an injected disk of the same behaviour. */
export function fillableDisk(sizeMb = 16): FillableDisk {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-disk-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dataDir], { stdio: 'ignore' });
    return tmpfsDisk(dataDir);
  } catch {
    return injectedDisk(dataDir);
  }
}

function tmpfsDisk(dataDir: string): FillableDisk {
  const filler = path.join(dataDir, 'filler');
  return {
    kind: 'tmpfs',
    dataDir,
    overrides: () => ({}),
    attach: () => undefined,
    fill() {
      // Big writes first, then ever smaller ones, until not one byte more fits.
      const descriptor = fs.openSync(filler, 'a');
      try {
        for (const chunk of [1 << 20, 1 << 12, 1]) {
          const bytes = Buffer.alloc(chunk, 1);
          for (;;) {
            try {
              fs.writeSync(descriptor, bytes);
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
              break;
            }
          }
        }
      } finally {
        fs.closeSync(descriptor);
      }
    },
    free() {
      fs.rmSync(filler, { force: true });
    },
    dispose() {
      execFileSync('umount', ['-l', dataDir], { stdio: 'ignore' });
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function injectedDisk(dataDir: string): FillableDisk {
  let full = false;
  const diskFull = (what: string) =>
    Object.assign(new Error(`ENOSPC: no space left on device, ${what}`), { code: 'ENOSPC', errno: -28 });
  return {
    kind: 'injected',
    dataDir,
    overrides(publicBaseUrl) {
      const storage = createLocalImageStorage({ dataDir, publicBaseUrl });
      return {
        freeBytesOf: () => (full ? 0 : 1 << 30),
        storage: {
          ...storage,
          kind: storage.kind,
          async save(image) {
            if (full) throw diskFull(`write '${image.key}'`);
            return storage.save(image);
          },
        },
      };
    },
    attach(services) {
      // SQLite's own error for a full disk, raised from a trigger on every write, as a full WAL would.
      sqliteOf(services).function('test_disk_full', () => {
        if (full) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        return 0;
      });
      const tables = sqliteOf(services)
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .pluck()
        .all() as string[];
      for (const table of tables) {
        for (const event of ['INSERT', 'UPDATE', 'DELETE']) {
          sqliteOf(services).exec(
            `CREATE TEMP TRIGGER "full_${table}_${event}" BEFORE ${event} ON main."${table}" BEGIN SELECT test_disk_full(); END`,
          );
        }
      }
    },
    fill() {
      full = true;
    },
    free() {
      full = false;
    },
    dispose() {
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
