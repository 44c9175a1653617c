import pLimit from 'p-limit';
import type { Logger } from 'pino';
import type { AbandonedHold } from '../quota/quota-ledger.ts';
import { type ImageStorage, imageExtensions, imageKey } from './image-storage.ts';

/**
 * Removes whatever a hold released without its charge may have stored: a process that died between
 * storing an image and recording it leaves the file behind, and nothing would ever point at it. The
 * extension was decided by the provider's answer, so every one an image may have is tried; removing a
 * missing object is a no-op in every storage. Runs in the background and only logs a failure: the hold
 * is released either way.
 */
export function removeUnrecordedImages(
  storage: ImageStorage,
  holds: readonly AbandonedHold[],
  logger: Logger,
): Promise<void> {
  const keys = holds.flatMap((hold) =>
    hold.imageIds.flatMap((id) => imageExtensions.map((extension) => imageKey(hold.userId, id, extension))),
  );
  // A few at a time: with remote storage each is a request, and a recovery may release many holds at once.
  const limit = pLimit(8);
  return Promise.all(
    keys.map((key) =>
      limit(() =>
        storage.remove(key).catch((error: unknown) => {
          logger.error({ err: error, key }, 'removing an image a crash left unrecorded failed');
        }),
      ),
    ),
  ).then(() => undefined);
}
