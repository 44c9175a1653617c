import { type App, applicationDefault, cert, deleteApp, initializeApp } from 'firebase-admin/app';

/** What a Firebase app needs; the caller reads it from the config, never from the environment here. */
export interface FirebaseAppSettings {
  projectId: string;
  /** A service-account JSON file; without one, Google application default credentials are used. */
  credentialsPath: string | undefined;
  storageBucket: string | undefined;
  /** firebase-admin keeps apps in a process-wide registry by name; the default is unique per call. */
  appName?: string;
  /** `host:port` of the Auth and Storage emulators, when they stand in for Firebase. */
  emulators?: { auth: string | undefined; storage: string | undefined };
}

let appsCreated = 0;

/**
 * A named firebase-admin app rather than the `[DEFAULT]` one: firebase-admin refuses a second app under a name
 * already taken, so a unique name lets tests and a restarted service build several without clashing, and code
 * elsewhere in the process that uses the default app is left alone.
 */
export function createFirebaseApp(settings: FirebaseAppSettings): App {
  appsCreated += 1;
  useEmulators(settings.emulators);
  return initializeApp(
    {
      projectId: settings.projectId,
      // cert() reads and checks the key file now, so a bad path fails at start-up rather than on first use.
      credential: settings.credentialsPath ? cert(settings.credentialsPath) : applicationDefault(),
      ...(settings.storageBucket ? { storageBucket: settings.storageBucket } : {}),
    },
    settings.appName ?? `imagine-${appsCreated}`,
  );
}

/**
 * firebase-admin has no per-app emulator option: it reads these variables from the process environment when
 * it verifies a token or builds a Storage client. The config (which may come from `.env`) is copied there,
 * so the emulators are used exactly when the config says so. Credentials are then never asked for.
 */
function useEmulators(emulators: FirebaseAppSettings['emulators']): void {
  if (emulators?.auth) process.env.FIREBASE_AUTH_EMULATOR_HOST = emulators.auth;
  if (emulators?.storage) {
    process.env.FIREBASE_STORAGE_EMULATOR_HOST = emulators.storage;
    // What @google-cloud/storage itself reads; firebase-admin would only set it if it were unset.
    process.env.STORAGE_EMULATOR_HOST = `http://${emulators.storage}`;
  }
}

/** Frees the app's services and its name, so a closed service leaves no timers or sockets behind. */
export async function deleteFirebaseApp(app: App): Promise<void> {
  await deleteApp(app);
}
