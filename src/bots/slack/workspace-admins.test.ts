/** Who counts as a Slack admin: SLACK_ADMIN_USERS, or users.info's is_admin / is_owner, kept for a while. */
import type { webApi } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { capturingLogger } from '../../test-support/capturing-logger.ts';
import { workspaceAdmins } from './workspace-admins.ts';

/** A WebClient whose users.info answers from `answer`, counting the calls. */
function clientAnswering(answer: (user: string) => Promise<unknown>) {
  const asked: string[] = [];
  const client = {
    users: {
      info: ({ user }: { user: string }) => {
        asked.push(user);
        return answer(user);
      },
    },
  } as unknown as webApi.WebClient;
  return { client, asked };
}

describe('Slack workspace admins', () => {
  it('keeps users.info answers for five minutes; SLACK_ADMIN_USERS are never looked up', async () => {
    let now = 0;
    const admins = workspaceAdmins(['U0LISTED'], capturingLogger().logger, () => now);
    const { client, asked } = clientAnswering(async (user) => ({
      ok: true,
      user: { id: user, is_admin: user === 'U0ADMIN', is_owner: user === 'U0OWNER' },
    }));
    expect(await admins.isAdmin(client, 'U0LISTED')).toBe(true);
    expect(await admins.isAdmin(client, 'U0ADMIN')).toBe(true);
    expect(await admins.isAdmin(client, 'U0OWNER')).toBe(true);
    expect(await admins.isAdmin(client, 'U0MEMBER')).toBe(false);
    now += 4 * 60 * 1000;
    expect(await admins.isAdmin(client, 'U0ADMIN')).toBe(true);
    expect(asked).toEqual(['U0ADMIN', 'U0OWNER', 'U0MEMBER']);
    now += 2 * 60 * 1000;
    expect(await admins.isAdmin(client, 'U0ADMIN')).toBe(true);
    expect(asked).toEqual(['U0ADMIN', 'U0OWNER', 'U0MEMBER', 'U0ADMIN']);
  });

  it('a failed lookup answers "not an admin" with a warning, and is tried again after 30 s', async () => {
    let now = 0;
    const captured = capturingLogger('warn');
    const admins = workspaceAdmins([], captured.logger, () => now);
    const { client, asked } = clientAnswering(async () => {
      throw Object.assign(new Error('An API error occurred: missing_scope'), {
        code: 'slack_webapi_platform_error',
      });
    });
    expect(await admins.isAdmin(client, 'U0OWNER')).toBe(false);
    expect(await admins.isAdmin(client, 'U0OWNER')).toBe(false);
    expect(asked).toEqual(['U0OWNER']);
    expect(captured.lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        level: 40,
        userId: 'U0OWNER',
        msg: 'could not read a Slack user with users.info; treating them as not an admin',
      }),
    ]);
    now += 31 * 1000;
    await admins.isAdmin(client, 'U0OWNER');
    expect(asked).toEqual(['U0OWNER', 'U0OWNER']);
  });
});
