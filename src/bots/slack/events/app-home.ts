import type { App, BlockAction, webApi } from '@slack/bolt';
import { shownFromRecord } from '../../../core/chat/shown-image.ts';
import { settingsActionPrefix, settingsBlocks, settingsChange } from '../settings-blocks.ts';
import { homeView } from '../slack-blocks.ts';
import { quietly, type SlackContext, slackIdentity, slackPlaceFor } from '../slack-context.ts';

/** How many recent images the App Home lists. */
const recentImages = 5;

/**
 * The App Home tab, published each time a user opens it: their plan, usage this month, link status and
 * most recent images. Bolt acknowledges events itself; publishing is idempotent, so a redelivery is harmless.
 */
export function registerAppHome(app: App, context: SlackContext): void {
  const publish = async (client: webApi.WebClient, teamId: string, userId: string) => {
    const identity = slackIdentity(teamId, userId);
    const place = await slackPlaceFor(context, client, { teamId, userId });
    const caller = await context.chatImages.caller(identity, place);
    const recent = await context.records.listForUser(caller.userId, {
      limit: recentImages,
      cursor: undefined,
    });
    const view = homeView({
      usage: await context.chatImages.usage(identity, place),
      workspaceMonthlyImages: context.workspaceMonthlyImages,
      recent: recent.records.map(shownFromRecord),
      publicImages: context.publicImages,
      settings: settingsBlocks(
        await context.chatImages.settings.get(identity),
        context.models.availableTo(caller.plan),
        context.defaultModel,
      ),
    });
    await quietly(context.logger, 'publishing the App Home', () =>
      client.views.publish({ user_id: userId, view }),
    );
  };

  app.event('app_home_opened', async ({ event, body, client }) => {
    if (event.tab !== undefined && event.tab !== 'home') return;
    await publish(client, body.team_id, event.user);
  });

  // A choice in the settings menus is saved at once, and the Home shows it.
  app.action<BlockAction>(
    { type: 'block_actions', action_id: new RegExp(`^${settingsActionPrefix}`) },
    async ({ ack, action, body, client }) => {
      await ack();
      const teamId = body.user.team_id ?? body.team?.id ?? '';
      const identity = slackIdentity(teamId, body.user.id);
      const setting = action.action_id.slice(settingsActionPrefix.length);
      if (setting === 'reset') {
        await context.chatImages.settings.reset(identity);
      } else {
        const value = action.type === 'static_select' ? action.selected_option?.value : undefined;
        const place = await slackPlaceFor(context, client, { teamId, userId: body.user.id });
        const plan = (await context.chatImages.caller(identity, place)).plan;
        const change = settingsChange(setting, value, context.models.availableTo(plan));
        if (change) await context.chatImages.settings.update(identity, change);
      }
      await publish(client, teamId, body.user.id);
    },
  );
}
