/** NSFW_POLICY: `block` (the blocklist everywhere), `nsfw-channels` (relaxed where the channel says NSFW), `allow`. */
export type NsfwPolicy = 'block' | 'nsfw-channels' | 'allow';

/** What the policy means in one channel: whether the blocklist relaxes, and whether results are spoilers. */
export interface NsfwRules {
  relaxBlocklist: boolean;
  spoiler: boolean;
}

/**
 * The rules for a channel under the operator's policy. `channelNsfw` is the platform's own flag (Discord's
 * age-restricted channels); Slack has none, so there `nsfw-channels` is the same as `block`. With `allow`
 * the blocklist applies nowhere in chat, and results are spoilers in channels marked NSFW.
 */
export function nsfwRules(policy: NsfwPolicy, channelNsfw: boolean | undefined): NsfwRules {
  const marked = channelNsfw === true;
  switch (policy) {
    case 'block':
      return { relaxBlocklist: false, spoiler: false };
    case 'nsfw-channels':
      return { relaxBlocklist: marked, spoiler: marked };
    case 'allow':
      return { relaxBlocklist: true, spoiler: marked };
  }
}
