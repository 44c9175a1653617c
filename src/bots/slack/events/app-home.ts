import type { App } from '@slack/bolt';
import { shownFromRecord } from '../../../core/chat/shown-image.ts';
import { homeView } from '../slack-blocks.ts';
import { quietly, type SlackContext, slackIdentity, slackPlaceFor } from '../slack-context.ts';

/** How many recent images the App Home lists. */
const recentImages = 5;

/**
 * The App Home tab, published each time a user opens it: their plan, usage this month, link status and
 * most recent images. Bolt acknowledges events itself; publishing is idempotent, so a redelivery is harmless.
 */
export function registerAppHome(app: App, context: SlackContext): void {
  app.event('app_home_opened', async ({ event, body, client }) => {
    if (event.tab !== undefined && event.tab !== 'home') return;
    const teamId = body.team_id;
    const identity = slackIdentity(teamId, event.user);
    const place = await slackPlaceFor(context, client, { teamId, userId: event.user });
    const caller = context.chatImages.caller(identity, place);
    const recent = context.records.listForUser(caller.userId, { limit: recentImages, cursor: undefined });
    const view = homeView({
      usage: context.chatImages.usage(identity, place),
      workspaceMonthlyImages: context.workspaceMonthlyImages,
      recent: recent.records.map(shownFromRecord),
      publicImages: context.publicImages,
    });
    await quietly(context.logger, 'publishing the App Home', () =>
      client.views.publish({ user_id: event.user, view }),
    );
  });
}
