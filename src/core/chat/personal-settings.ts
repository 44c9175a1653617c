import { z } from 'zod';
import { aspectRatios } from '../generation/image-dimensions.ts';
import { findStylePreset } from '../styles/style-presets.ts';
import type { ChatIdentity, ChatImageOptions } from './chat-images.ts';
import type { PromptWithFlags } from './prompt-flags.ts';
import type { SettingsStore } from './settings-store.ts';

/** A person's own defaults in chat; each is unset until they choose it. */
export interface PersonalSettings {
  style?: string | undefined;
  aspectRatio?: (typeof aspectRatios)[number] | undefined;
  model?: string | undefined;
  enhance?: boolean | undefined;
  /** Results only they see (Discord ephemeral, Slack DM), as Midjourney's Stealth. */
  private?: boolean | undefined;
}

/** What is stored; a value that no longer parses (a removed style) is dropped, not an error. */
const storedSettingsSchema = z.object({
  style: z
    .string()
    .refine((style) => findStylePreset(style) !== undefined)
    .optional()
    .catch(undefined),
  aspectRatio: z.enum(aspectRatios).optional().catch(undefined),
  model: z
    .string()
    .regex(/^[a-z0-9._-]{1,64}$/)
    .optional()
    .catch(undefined),
  enhance: z.boolean().optional().catch(undefined),
  private: z.boolean().optional().catch(undefined),
});

/** Per chat identity, in the database: one JSON object per person, replaced whole on every change. */
export class PersonalSettingsStore {
  readonly #store: SettingsStore;
  readonly #now: () => Date;

  constructor(store: SettingsStore, now: () => Date = () => new Date()) {
    this.#store = store;
    this.#now = now;
  }

  async get(identity: ChatIdentity): Promise<PersonalSettings> {
    return settingsOf(await this.#store.read(identity));
  }

  /** Changes some settings (`undefined` clears one) and returns them all. */
  async update(identity: ChatIdentity, change: PersonalSettings): Promise<PersonalSettings> {
    const written = await this.#store.change(
      identity,
      (stored) =>
        JSON.stringify(withoutUnset(storedSettingsSchema.parse({ ...settingsOf(stored), ...change }))),
      this.#now(),
    );
    return settingsOf(written);
  }

  /** `/settings reset`: back to the service's defaults. */
  reset(identity: ChatIdentity): Promise<void> {
    return this.#store.remove(identity);
  }
}

/** What a stored document says; a document that no longer parses is no settings at all. */
function settingsOf(stored: string | undefined): PersonalSettings {
  if (stored === undefined) return {};
  try {
    return withoutUnset(storedSettingsSchema.parse(JSON.parse(stored)));
  } catch {
    return {};
  }
}

function withoutUnset(settings: PersonalSettings): PersonalSettings {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined));
}

/**
 * The one merge order of a chat request: personal settings < flags typed in the prompt < the platform's
 * own fields (Discord options). Enhancement is on unless one of them turns it off.
 */
export function mergeImageOptions(
  settings: PersonalSettings,
  flags: PromptWithFlags,
  options: ChatImageOptions,
): {
  style: string | undefined;
  aspect_ratio: PersonalSettings['aspectRatio'];
  model: string | undefined;
  enhance_prompt: boolean;
} {
  return {
    style: options.style ?? flags.style ?? settings.style,
    aspect_ratio: options.aspectRatio ?? flags.aspectRatio ?? settings.aspectRatio,
    model: options.model ?? flags.model ?? settings.model,
    enhance_prompt: options.enhance ?? flags.enhance ?? settings.enhance ?? true,
  };
}
