/**
 * What a chat button does, encoded in its custom id / action value so that buttons keep working after a
 * restart or on another instance: the id names the stored generation, nothing lives in memory.
 * `owner` is the quota subject that made the image (an app uid or a chat identity).
 */
export type ChatAction =
  /**
   * Single-image buttons. `vary` is Vary (Strong) and `vary-subtle` Vary (Subtle): image-to-image from the
   * stored image; `enlarge` is Upscale 2×; `remix` opens a prompt editor (and names its submission). Each
   * of those and Reroll is charged to whoever pressed.
   */
  | {
      kind: 'reroll' | 'vary' | 'vary-subtle' | 'enlarge' | 'remix' | 'details' | 'delete';
      owner: string;
      generationId: string;
    }
  /** Batch buttons: U (post image `index` full size, free) and V (a variation of that image, charged). */
  | { kind: 'upscale' | 'variant'; owner: string; batchId: string; index: number };

const prefix = 'imagine';
const singleKinds = {
  r: 'reroll',
  v: 'vary',
  s: 'vary-subtle',
  e: 'enlarge',
  m: 'remix',
  d: 'details',
  x: 'delete',
} as const;
const batchKinds = { u: 'upscale', w: 'variant' } as const;

/** Discord allows 100 characters in a custom id; Slack 255 in an action value. */
export const maximumActionIdLength = 100;

export function encodeChatAction(action: ChatAction): string {
  const encoded =
    'generationId' in action
      ? [prefix, letterFor(singleKinds, action.kind), action.generationId, action.owner].join('|')
      : [prefix, letterFor(batchKinds, action.kind), action.batchId, String(action.index), action.owner].join(
          '|',
        );
  if (encoded.length > maximumActionIdLength) throw new RangeError(`action id too long (${encoded.length})`);
  return encoded;
}

/** The action a custom id names, or undefined when it is not one of ours (or was tampered with). */
export function decodeChatAction(text: string): ChatAction | undefined {
  const parts = text.split('|');
  if (parts[0] !== prefix) return undefined;
  const letter = parts[1] ?? '';
  if (letter in singleKinds && parts.length >= 4) {
    const [, , generationId = '', ...ownerParts] = parts;
    const owner = ownerParts.join('|');
    if (!generationId || !owner) return undefined;
    return { kind: singleKinds[letter as keyof typeof singleKinds], owner, generationId };
  }
  if (letter in batchKinds && parts.length >= 5) {
    const [, , batchId = '', indexText = '', ...ownerParts] = parts;
    const index = Number(indexText);
    const owner = ownerParts.join('|');
    if (!batchId || !owner || !Number.isInteger(index) || index < 0 || index > 3) return undefined;
    return { kind: batchKinds[letter as keyof typeof batchKinds], owner, batchId, index };
  }
  return undefined;
}

function letterFor<K extends string>(table: Record<string, K>, kind: K): string {
  const entry = Object.entries(table).find(([, value]) => value === kind);
  if (!entry) throw new RangeError(`no letter for ${kind}`);
  return entry[0];
}
