/**
 * Vary (Subtle/Strong) and Upscale from chat: the stored image goes to the model as the input, the presser
 * pays one image, and the result names its parent and kind. The models are stand-ins that record their calls.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Services } from '../../services.ts';
import {
  imageInputEnvironment,
  imageInputProvider,
  imageInputStandIns,
} from '../../test-support/image-input-stand-ins.ts';
import { createTestServices } from '../../test-support/test-services.ts';
import type { ChatCallContext, ChatPlace } from './chat-images.ts';

let services: Services | undefined;
afterEach(async () => {
  await services?.close();
  services = undefined;
});

const place: ChatPlace = { scopeKey: undefined, scopeLimit: undefined };
const call: ChatCallContext = { source: 'discord', abortSignal: undefined };

async function start() {
  const models = imageInputStandIns();
  services = await createTestServices(imageInputEnvironment, {
    providers: [imageInputProvider],
    models: Object.values(models),
  });
  const made = await services.chatImages.create(
    'discord:1',
    place,
    { text: 'a red fox in snow --ar 1:1', enhance: false },
    call,
  );
  const source = made.images[0];
  if (!source) throw new Error('no source image');
  const record = await services.chatImages.find('discord:1', source.id);
  const bytes = await services.chatImages.read(record);
  return { services, models, record, bytes };
}

describe('chat variations and upscales of a stored image', () => {
  it.each([
    ['subtle', 0.35],
    ['strong', 0.75],
  ] as const)(
    'Vary (%s) sends the stored image at strength %d and charges the presser',
    async (strength, value) => {
      const { services, models, record, bytes } = await start();
      const outcome = await services.chatImages.vary(
        'discord:2',
        place,
        'discord:1',
        record.id,
        strength,
        call,
      );
      const input = models.remixer.calls[0]?.inputImages?.[0];
      expect(models.remixer.calls[0]).toMatchObject({ task: 'image_to_image', strength: value });
      expect(Buffer.from(input?.bytes ?? []).equals(Buffer.from(bytes))).toBe(true);
      const result = outcome.images[0];
      expect(result).toBeDefined();
      const made = await services.chatImages.find('discord:2', result?.id ?? '');
      expect(made).toMatchObject({ parentId: record.id, kind: 'variation' });
      expect(await services.ledger.usage('discord:2', 10)).toMatchObject({ used: 1, reserved: 0 });
      expect(await services.ledger.usage('discord:1', 10)).toMatchObject({ used: 1, reserved: 0 });
    },
  );

  it('Upscale 2× enlarges the stored image through the upscaler, charged one image', async () => {
    const { services, models, record, bytes } = await start();
    const outcome = await services.chatImages.upscale('discord:2', place, 'discord:1', record.id, 2, call);
    const input = models.upscaler.calls[0]?.inputImages?.[0];
    expect(models.upscaler.calls[0]).toMatchObject({ task: 'upscale', upscaleFactor: 2 });
    expect(Buffer.from(input?.bytes ?? []).equals(Buffer.from(bytes))).toBe(true);
    const made = await services.chatImages.find('discord:2', outcome.images[0]?.id ?? '');
    expect(made).toMatchObject({
      parentId: record.id,
      kind: 'upscale',
      width: record.width * 2,
      height: record.height * 2,
    });
    expect(await services.ledger.usage('discord:2', 10)).toMatchObject({ used: 1, reserved: 0 });
  });

  it('an image that is gone is a not_found, with nothing charged', async () => {
    const { services } = await start();
    await expect(
      services.chatImages.vary('discord:2', place, 'discord:1', 'no-such-image', 'subtle', call),
    ).rejects.toMatchObject({ code: 'not_found' });
    expect(await services.ledger.usage('discord:2', 10)).toMatchObject({ used: 0, reserved: 0 });
  });
});
