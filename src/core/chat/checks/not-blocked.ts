import type { ChatAdmin } from '../chat-admin.ts';
import type { ChatCheck } from './chat-check.ts';

/** `/imagine-admin block`: a blocked identity makes and posts no images, admins included. */
export function notBlockedCheck(admin: Pick<ChatAdmin, 'isBlocked'>): ChatCheck {
  return {
    name: 'not-blocked',
    async run(subject) {
      if (!(await admin.isBlocked(subject.identity))) return { ok: true };
      return {
        ok: false,
        identifier: 'blocked',
        message: 'An admin has blocked you from making images here. Ask them if you think that is a mistake.',
        context: {},
      };
    },
  };
}
