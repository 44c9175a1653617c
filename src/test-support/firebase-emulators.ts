/**
 * The Firebase Local Emulator Suite's Auth and Storage emulators from `firebase-tools` (a dev dependency),
 * started inside the test process on ephemeral loopback ports. They are the same express apps that
 * `firebase emulators:start` serves; starting them here skips what the CLI adds around them, none of which
 * a test wants: a fetch of its message of the day, update checks, fixed ports and the Emulator Hub.
 *
 * One part is stood in: the Storage emulator evaluates security rules in a Java process whose jar the CLI
 * downloads from Google on first start, which an offline machine cannot do. Here the rules are those of a
 * `storage.rules` saying `allow read: if true;` (and no writes); imagine's uploads use the Cloud Storage
 * API, which the emulator serves with admin rights and never checks against rules, as Google does for a
 * service account.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);

/** An emulator listening on 127.0.0.1. */
export interface RunningEmulator {
  /** `127.0.0.1:<port>`, as the `FIREBASE_*_EMULATOR_HOST` variables take it. */
  host: string;
  close(): Promise<void>;
}

type RequestListener = Parameters<typeof createServer>[1];

async function listen(handler: RequestListener, cleanup: () => Promise<void> = async () => {}) {
  const server: Server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    port,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await cleanup();
    },
  };
}

/** The Auth emulator for `projectId` (a `demo-…` id keeps it from looking for a real project). */
export async function startAuthEmulator(projectId: string): Promise<RunningEmulator> {
  const { createApp } = require('firebase-tools/lib/emulator/auth/server.js') as {
    createApp(projectId: string, singleProjectMode: number): Promise<RequestListener>;
  };
  const { SingleProjectMode } = require('firebase-tools/lib/emulator/auth/index.js') as {
    SingleProjectMode: { NO_WARNING: number };
  };
  const app = await createApp(projectId, SingleProjectMode.NO_WARNING);
  const { host, close } = await listen(app);
  return { host, close };
}

interface StorageEmulatorInternals {
  args: { port: number };
  _rulesManager: unknown;
  _persistence: { reset(directory: string): void; deleteAll(): Promise<void> };
}

/** What the rules runtime answers for `allow read: if true;`. */
const readOnlyRuleset = {
  async verify(options: { method: string }) {
    return {
      permitted: options.method === 'get' || options.method === 'list',
      issues: { exist: () => false, all: [] },
    };
  },
};

/** The Storage emulator for `projectId`; every bucket exists in it, as the emulator creates them on use. */
export async function startStorageEmulator(projectId: string): Promise<RunningEmulator> {
  const { StorageEmulator } = require('firebase-tools/lib/emulator/storage/index.js') as {
    StorageEmulator: new (args: Record<string, unknown>) => StorageEmulatorInternals;
  };
  const { createApp } = require('firebase-tools/lib/emulator/storage/server.js') as {
    createApp(projectId: string, emulator: StorageEmulatorInternals): Promise<RequestListener>;
  };
  const { EmulatorRegistry } = require('firebase-tools/lib/emulator/registry.js') as {
    EmulatorRegistry: { set(name: string, emulator: unknown): void; clear(name: string): void };
  };
  const emulator = new StorageEmulator({
    projectId,
    host: '127.0.0.1',
    port: 0,
    rules: { name: 'storage.rules', content: '' },
    auto_download: false,
  });
  // Its own folder for the stored bytes: the default is one shared by every emulator on the machine, and
  // closing removes the whole folder.
  emulator._persistence.reset(mkdtempSync(path.join(tmpdir(), 'imagine-storage-emulator-')));
  emulator._rulesManager = {
    getRuleset: () => readOnlyRuleset,
    start: async () => undefined,
    stop: async () => undefined,
  };
  const app = await createApp(projectId, emulator);
  const running = await listen(app, async () => {
    EmulatorRegistry.clear('storage');
    await emulator._persistence.deleteAll();
  });
  // The emulator writes its own address into object metadata (selfLink, mediaLink) from the registry.
  emulator.args.port = running.port;
  EmulatorRegistry.set('storage', emulator);
  return { host: running.host, close: running.close };
}
