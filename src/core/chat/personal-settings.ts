import { z } from 'zod';
import type { SqliteDatabase } from '../database/open-database.ts';
import { aspectRatios } from '../generation/image-dimensions.ts';
import { findStylePreset } from '../styles/style-presets.ts';
import type { ChatIdentity, ChatImageOptions } from './chat-images.ts';
import type { PromptWithFlags } from './prompt-flags.ts';

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
  readonly #now: () => Date;
  readonly #statements;

  constructor(database: SqliteDatabase, now: () => Date = () => new Date()) {
    this.#now = now;
    this.#statements = {
      get: database.prepare<[string], { settings: string }>(
        'SELECT settings FROM personal_settings WHERE identity = ?',
      ),
      put: database.prepare<[string, string, string], void>(
        `INSERT INTO personal_settings (identity, settings, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (identity) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at`,
      ),
      remove: database.prepare<[string], void>('DELETE FROM personal_settings WHERE identity = ?'),
    };
  }

  get(identity: ChatIdentity): PersonalSettings {
    const row = this.#statements.get.get(identity);
    if (!row) return {};
    try {
      return withoutUnset(storedSettingsSchema.parse(JSON.parse(row.settings)));
    } catch {
      return {};
    }
  }

  /** Changes some settings (`undefined` clears one) and returns them all. */
  update(identity: ChatIdentity, change: PersonalSettings): PersonalSettings {
    const next = withoutUnset(storedSettingsSchema.parse({ ...this.get(identity), ...change }));
    this.#statements.put.run(identity, JSON.stringify(next), this.#now().toISOString());
    return next;
  }

  /** `/settings reset`: back to the service's defaults. */
  reset(identity: ChatIdentity): void {
    this.#statements.remove.run(identity);
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
