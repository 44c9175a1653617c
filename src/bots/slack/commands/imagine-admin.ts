import type { AdminActor } from '../../../core/chat/chat-admin.ts';
import { ImagineError } from '../../../core/errors/imagine-error.ts';
import { slackIdentity } from '../slack-context.ts';
import { claimCommand, ephemeral, type SlashCommandDefinition } from './slash-command.ts';

const usageHint =
  'grant @user <images> | plan @user <plan> | refund <image id> | usage | block @user | unblock @user';

/** `<@U123|ben>` (escaped by Slack, see the manifest's should_escape) or a bare `U123`. */
function userId(word: string | undefined): string | undefined {
  const match =
    /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(word ?? '') ?? /^([UW][A-Z0-9]{2,})$/.exec(word ?? '');
  return match?.[1];
}

/**
 * `/imagine-admin …`: for workspace admins and owners (users.info) and the users in SLACK_ADMIN_USERS. The same actions as Discord's, through the core,
 * each audited with who did it; the answer is only for the admin.
 */
export const imagineAdminCommand: SlashCommandDefinition = {
  name: '/imagine-admin',
  description: 'Admins: grant images, set plans, refund, usage, block',
  usageHint,
  handler: (context) => async (args) => {
    if (!(await claimCommand(context, args))) return;
    const { command } = args;
    const answer = (text: string) => args.ack(ephemeral(text));
    if (!(await context.workspaceAdmins.isAdmin(args.client, command.user_id))) {
      await answer('Only workspace admins and the users in SLACK_ADMIN_USERS can use `/imagine-admin`.');
      return;
    }
    const [action, first, second] = command.text.trim().split(/\s+/);
    const admin = context.chatImages.admin;
    const actor: AdminActor = {
      identity: slackIdentity(command.team_id, command.user_id),
      scopeKey: `slack-team:${command.team_id}`,
    };
    const member = userId(first);
    const target = member ? slackIdentity(command.team_id, member) : undefined;
    const needsUser = ['grant', 'plan', 'block', 'unblock'].includes(action ?? '');
    if (needsUser && !target) {
      await answer(`Name the person: \`/imagine-admin ${action} @someone\`.`);
      return;
    }
    try {
      switch (action) {
        case 'grant': {
          const images = Number(second);
          const granted = await admin.grant(actor, target ?? '', images);
          await answer(
            `Granted <@${member}> ${images} extra images this month (${granted.extra} extra in all).`,
          );
          return;
        }
        case 'plan':
          await admin.setPlan(actor, target ?? '', (second ?? '').toLowerCase());
          await answer(`<@${member}> is now on the *${(second ?? '').toLowerCase()}* plan.`);
          return;
        case 'refund': {
          const refunded = admin.refund(actor, first ?? '');
          await answer(`Refunded one image to \`${refunded.userId}\`.`);
          return;
        }
        case 'usage': {
          const usage = admin.placeUsage(actor);
          const top = usage.top.map((entry, index) => {
            const user = entry.identity.split(':')[2];
            return `${index + 1}. ${user ? `<@${user}>` : `\`${entry.identity}\``}: ${entry.images}`;
          });
          await answer(
            [
              `*This workspace, ${usage.period}:* ${usage.images} images`,
              ...(top.length ? ['*Top users:*', ...top] : []),
            ].join('\n'),
          );
          return;
        }
        case 'block':
          admin.block(actor, target ?? '');
          await answer(`<@${member}> can no longer make images.`);
          return;
        case 'unblock':
          await answer(
            admin.unblock(actor, target ?? '')
              ? `<@${member}> can make images again.`
              : `<@${member}> was not blocked.`,
          );
          return;
        default:
          await answer(`Usage: \`/imagine-admin ${usageHint}\``);
      }
    } catch (error) {
      if (!ImagineError.isInstance(error)) throw error;
      await answer(`⚠️ ${error.message}`);
    }
  },
};
