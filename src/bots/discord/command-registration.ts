import { type REST, type RESTPostAPIChatInputApplicationCommandsJSONBody, Routes } from 'discord.js';

/** What `discord:register` did, command by command. */
export interface RegistrationReport {
  /** `global` or `server <id>`. */
  target: string;
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: string[];
  /** False when nothing differed, so nothing was sent. */
  written: boolean;
}

/**
 * Makes Discord's command list equal to `definitions` (one bulk overwrite, which also removes commands
 * no longer defined), globally or for one server. Reads the current list first to report what changes,
 * and writes nothing when nothing does.
 */
export async function registerCommands(settings: {
  rest: REST;
  applicationId: string;
  guildId: string | undefined;
  definitions: readonly RESTPostAPIChatInputApplicationCommandsJSONBody[];
}): Promise<RegistrationReport> {
  const { rest, applicationId, guildId } = settings;
  const route = guildId
    ? Routes.applicationGuildCommands(applicationId, guildId)
    : Routes.applicationCommands(applicationId);
  // Install and context settings apply to global commands only; a server's commands live in that server.
  const definitions = guildId
    ? settings.definitions.map(({ integration_types: _types, contexts: _contexts, ...rest }) => rest)
    : [...settings.definitions];
  const existing = (await rest.get(route)) as { name: string; type?: number }[];
  const report: RegistrationReport = {
    target: guildId ? `server ${guildId}` : 'global',
    added: [],
    changed: [],
    removed: [],
    unchanged: [],
    written: false,
  };
  for (const definition of definitions) {
    const current = existing.find(
      (command) => command.name === definition.name && (command.type ?? 1) === (definition.type ?? 1),
    );
    if (!current) report.added.push(definition.name);
    else if (sameCommand(definition, current)) report.unchanged.push(definition.name);
    else report.changed.push(definition.name);
  }
  for (const command of existing) {
    if (!definitions.some((definition) => definition.name === command.name))
      report.removed.push(command.name);
  }
  if (report.added.length + report.changed.length + report.removed.length > 0) {
    await rest.put(route, { body: definitions });
    report.written = true;
  }
  return report;
}

/** The report as the script prints it. */
export function formatRegistrationReport(report: RegistrationReport): string {
  const lines = [`Discord commands (${report.target}):`];
  for (const name of report.added) lines.push(`  + /${name}  added`);
  for (const name of report.changed) lines.push(`  ~ /${name}  changed`);
  for (const name of report.removed) lines.push(`  - /${name}  removed`);
  for (const name of report.unchanged) lines.push(`    /${name}  unchanged`);
  lines.push(
    report.written
      ? report.target === 'global'
        ? 'Registered. Global commands can take a few minutes to appear in Discord clients.'
        : 'Registered. Server commands appear at once.'
      : 'Nothing changed; nothing was sent.',
  );
  return `${lines.join('\n')}\n`;
}

/**
 * Whether Discord's stored command matches a definition, comparing only what the definition says:
 * Discord adds ids, versions and defaults (`required: false`, `nsfw: false`, empty lists) of its own.
 */
function sameCommand(definition: object, current: object): boolean {
  return (
    JSON.stringify(normalize(definition)) ===
    JSON.stringify(normalize(pick(current, Object.keys(definition))))
  );
}

function pick(value: object, keys: readonly string[]): Record<string, unknown> {
  const source = value as Record<string, unknown>;
  return Object.fromEntries(keys.filter((key) => key in source).map((key) => [key, source[key]]));
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(normalize);
    // Sets of numbers (contexts, integration types) may come back in any order.
    return items.every((item) => typeof item === 'number') ? [...items].sort() : items;
  }
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(
        ([, item]) =>
          item !== undefined &&
          item !== null &&
          item !== false &&
          !(Array.isArray(item) && item.length === 0),
      )
      .sort(([left], [right]) => left.localeCompare(right))
      .map(([key, item]) => [key, normalize(item)]);
    return Object.fromEntries(entries);
  }
  return value;
}
