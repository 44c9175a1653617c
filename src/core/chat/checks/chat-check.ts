import type { ChatIdentity } from '../chat-images.ts';

/** Who is asking and where: everything a check before a chat command may look at. */
export interface ChatCheckSubject {
  /** `discord:<id>`, `slack:<team>:<user>`: the platform identity, never the linked account. */
  identity: ChatIdentity;
  /** Server or workspace admins (as each platform decides); checks that say so let them through. */
  isAdmin: boolean;
  /** The channel the command came from; undefined when the platform does not say. */
  channelId: string | undefined;
}

/** The check let the command through. `undo` gives back what it took (a cooldown) when the command fails. */
export interface ChatCheckPassed {
  ok: true;
  undo?: (() => Promise<void>) | undefined;
}

/** A refusal the person reads, privately: a stable identifier, a sentence, and the facts behind it. */
export interface ChatCheckRefusal {
  ok: false;
  /** Stable, for logs and tests: `cooldown`, `channel_not_allowed`, … */
  identifier: string;
  message: string;
  context: Record<string, unknown>;
}

export type ChatCheckResult = ChatCheckPassed | ChatCheckRefusal;

/** One named check that runs before a chat command (as Sapphire's preconditions): ok, or a refusal. */
export interface ChatCheck {
  readonly name: ChatCheckName;
  run(subject: ChatCheckSubject): Promise<ChatCheckResult>;
}

/** Every check a command may list, by name. */
export type ChatCheckName = 'not-blocked' | 'allowed-channel' | 'cooldown';

/** The checks a bot built with its own settings, by name; a command lists the names it needs. */
export type ChatChecks = Readonly<Record<ChatCheckName, ChatCheck>>;

/**
 * Runs a command's checks in order and stops at the first refusal. What passed checks took is given back
 * when a later one refuses; the caller gets one `undo` for when the command itself then fails.
 */
export async function runChatChecks(
  checks: ChatChecks,
  names: readonly ChatCheckName[],
  subject: ChatCheckSubject,
): Promise<{ ok: true; undo(): Promise<void> } | ChatCheckRefusal> {
  const undos: (() => Promise<void>)[] = [];
  const undoAll = async () => {
    for (const undo of undos.splice(0).reverse()) await undo();
  };
  for (const name of names) {
    const result = await checks[name].run(subject);
    if (!result.ok) {
      await undoAll();
      return result;
    }
    if (result.undo) undos.push(result.undo);
  }
  return { ok: true, undo: undoAll };
}
