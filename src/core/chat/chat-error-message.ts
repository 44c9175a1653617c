import { ImagineError } from '../errors/imagine-error.ts';
import { periodResetsAt } from '../quota/billing-period.ts';

function resetDate(now: Date): string {
  return periodResetsAt(now).toLocaleDateString('en-US', { month: 'long', day: 'numeric', timeZone: 'UTC' });
}

/** "in 3 h 20 min (at 00:00 UTC)": how far away a reset is, in words anyone reads the same. */
function untilReset(resetsAt: unknown, now: Date): string {
  const at = typeof resetsAt === 'string' ? new Date(resetsAt) : undefined;
  if (!at || Number.isNaN(at.getTime())) return 'tomorrow (00:00 UTC)';
  const minutes = Math.max(1, Math.ceil((at.getTime() - now.getTime()) / 60_000));
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const span = hours === 0 ? `${rest} min` : rest === 0 ? `${hours} h` : `${hours} h ${rest} min`;
  return `in ${span} (at ${at.toISOString().slice(11, 16)} UTC)`;
}

/** The words that differ between platforms: the link command and what a shared cap belongs to. */
export interface ChatTerms {
  linkCommand: string;
  place: string;
}

export const discordTerms: ChatTerms = { linkCommand: '/link', place: 'server' };
export const slackTerms: ChatTerms = { linkCommand: '/imagine-link', place: 'workspace' };

/**
 * The short, human sentence a chat user sees for an error, the same in Discord and Slack but for the
 * platform's own words. Every failure before an image is delivered costs nothing, and where it helps the
 * sentence says so.
 */
export function chatErrorMessage(
  error: unknown,
  now: Date = new Date(),
  terms: ChatTerms = discordTerms,
): string {
  if (!ImagineError.isInstance(error))
    return 'Something went wrong on our side. You were not charged; please try again.';
  const context = error.context;
  switch (error.code) {
    case 'graphics_limit_reached':
      if (context.limit_period === 'day') {
        return `You have used all your images for today (${context.used}/${context.limit}). Your daily allowance comes back ${untilReset(context.resets_at, now)}.`;
      }
      return `You have used all your images for this month (${context.used}/${context.limit}). Your quota resets on ${resetDate(now)}. Link your app account with ${terms.linkCommand} to use its plan.`;
    case 'scope_limit_reached':
      return `This ${terms.place} has used all ${context.limit} of its images for this month. It resets on ${resetDate(now)}.`;
    case 'budget_exhausted':
      return `This bot has reached its monthly generation budget. It resets on ${resetDate(now)}.`;
    case 'model_not_allowed':
      return `Your ${context.plan} plan does not include the ${context.model} model. Leave out --model, or ask the operator about a plan that has it.`;
    case 'content_policy_violation':
      if (context.stage === 'output') {
        return 'The image that came back did not pass the content policy, so it was not posted. Try another prompt. You were not charged.';
      }
      return 'That prompt cannot be generated here (content policy). Try rephrasing it. You were not charged.';
    case 'provider_unavailable': {
      const wait =
        typeof context.retry_after === 'number'
          ? ` Try again in ${Math.ceil(context.retry_after)} s.`
          : ' Try again in a minute.';
      return `The image provider is not available right now.${wait} You were not charged.`;
    }
    case 'storage_unavailable':
      return `Images cannot be saved right now (the server's disk is full or failing). Try again in ${context.retry_after ?? 30} s. You were not charged.`;
    case 'database_unavailable':
      return `The service cannot reach its database right now. Try again in ${context.retry_after ?? 5} s. You were not charged.`;
    case 'rate_limited':
      return `You are going a bit fast. Try again in ${context.retry_after ?? 60} s.`;
    case 'generation_failed':
      return 'The image could not be generated. You were not charged; please try again.';
    case 'unsupported_by_model': {
      const models = Array.isArray(context.models) ? context.models.map(String) : [];
      const others = models.length > 0 ? ` Try --model ${models[0]}.` : ' No model here can.';
      const cannot = context.feature === 'upscale' ? 'cannot upscale images' : 'cannot work from an image';
      return `The ${context.model} model ${cannot}.${others} You were not charged.`;
    }
    case 'validation_error':
    case 'link_code_invalid':
    case 'not_found':
      return error.message;
    default:
      return 'Something went wrong on our side. You were not charged; please try again.';
  }
}
