import type { ChatCooldowns } from '../chat-cooldowns.ts';
import type { ChatCheck } from './chat-check.ts';

/**
 * CHAT_COOLDOWN_SECONDS between a person's generations, per platform identity (a linked account used from
 * Discord and Slack has a cooldown on each). Admins are exempt; 0 turns it off. A generation that then fails
 * gives its cooldown back.
 */
export function cooldownCheck(cooldowns: ChatCooldowns, seconds: number): ChatCheck {
  return {
    name: 'cooldown',
    async run(subject) {
      if (seconds <= 0 || subject.isAdmin) return { ok: true };
      const claim = await cooldowns.claim(subject.identity, seconds);
      if (claim.claimed) {
        return { ok: true, undo: () => cooldowns.giveBack(subject.identity, claim.startedMs) };
      }
      const unit = claim.secondsLeft === 1 ? 'second' : 'seconds';
      return {
        ok: false,
        identifier: 'cooldown',
        message: `Slow down a little: you can make your next image in ${claim.secondsLeft} ${unit}.`,
        context: { seconds_left: claim.secondsLeft, cooldown_seconds: seconds },
      };
    },
  };
}
