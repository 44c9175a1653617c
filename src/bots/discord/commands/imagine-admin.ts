import {
  type APIApplicationCommandInteractionDataOption,
  type APIApplicationCommandInteractionDataSubcommandOption,
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  PermissionFlagsBits,
} from 'discord.js';
import type { AdminActor } from '../../../core/chat/chat-admin.ts';
import type { InteractionContext } from '../interaction-context.ts';
import type { SlashCommand } from '../slash-command.ts';

const userOption = {
  type: ApplicationCommandOptionType.User,
  name: 'user',
  description: 'The member',
  required: true,
} as const;

/**
 * `/imagine-admin grant|plan|refund|usage|block|unblock`: for members with Manage Server (Discord hides it
 * from others by default) or a role in DISCORD_ADMIN_ROLES, checked again on every use. Every action is
 * audited in the core with who did it and where.
 */
export const imagineAdminCommand: SlashCommand = {
  definition: {
    type: ApplicationCommandType.ChatInput,
    name: 'imagine-admin',
    description: 'Server admins: grant images, set plans, refund, usage, block',
    default_member_permissions: String(PermissionFlagsBits.ManageGuild),
    integration_types: [ApplicationIntegrationType.GuildInstall],
    contexts: [InteractionContextType.Guild],
    options: [
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'grant',
        description: 'Extra images for a member this month',
        options: [
          userOption,
          {
            type: ApplicationCommandOptionType.Integer,
            name: 'images',
            description: 'How many',
            required: true,
            min_value: 1,
            max_value: 100_000,
          },
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'plan',
        description: 'Put a member on a plan',
        options: [
          userOption,
          {
            type: ApplicationCommandOptionType.String,
            name: 'plan',
            description: 'The plan name (free, pro, enterprise, …)',
            required: true,
          },
        ],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'refund',
        description: 'Give back what one image cost its maker (the id is in Details)',
        options: [
          {
            type: ApplicationCommandOptionType.String,
            name: 'image',
            description: 'The image id',
            required: true,
          },
        ],
      },
      { type: ApplicationCommandOptionType.Subcommand, name: 'usage', description: 'This server’s month' },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'block',
        description: 'Stop a member making images',
        options: [userOption],
      },
      {
        type: ApplicationCommandOptionType.Subcommand,
        name: 'unblock',
        description: 'Let a member make images again',
        options: [userOption],
      },
    ],
  },
  generatesImages: false,
  async execute(context, bot) {
    const reply = (content: string) =>
      context.respond.reply({ content, allowed_mentions: { parse: [] } }, { ephemeral: true });
    if (!context.guildId || !context.isAdmin) {
      await reply(
        'Only server admins (Manage Server, or a role the operator named in DISCORD_ADMIN_ROLES) can use /imagine-admin.',
      );
      return;
    }
    const { name, values } = subcommand(context);
    const admin = bot.chatImages.admin;
    const actor: AdminActor = { identity: context.identity, scopeKey: context.place.scopeKey };
    const member = typeof values.get('user') === 'string' ? String(values.get('user')) : '';
    const target = `discord:${member}`;
    switch (name) {
      case 'grant': {
        const images = Number(values.get('images'));
        const granted = await admin.grant(actor, target, images);
        await reply(
          `Granted <@${member}> ${images} extra images this month (${granted.extra} extra in all).`,
        );
        return;
      }
      case 'plan': {
        const plan = String(values.get('plan') ?? '')
          .trim()
          .toLowerCase();
        await admin.setPlan(actor, target, plan);
        await reply(`<@${member}> is now on the **${plan}** plan.`);
        return;
      }
      case 'refund': {
        const refunded = admin.refund(actor, String(values.get('image') ?? ''));
        await reply(`Refunded one image to \`${refunded.userId}\`.`);
        return;
      }
      case 'usage': {
        const usage = admin.placeUsage(actor);
        const top = usage.top.map(
          (entry, index) => `${index + 1}. ${mention(entry.identity)}: ${entry.images}`,
        );
        await reply(
          [
            `**This server, ${usage.period}:** ${usage.images} images`,
            ...(top.length ? ['**Top users:**', ...top] : []),
          ].join('\n'),
        );
        return;
      }
      case 'block':
        admin.block(actor, target);
        await reply(`<@${member}> can no longer make images.`);
        return;
      case 'unblock': {
        const was = admin.unblock(actor, target);
        await reply(was ? `<@${member}> can make images again.` : `<@${member}> was not blocked.`);
        return;
      }
      default:
        await reply('That /imagine-admin action is not known; run `npm run discord:register` again.');
    }
  },
};

/** The chosen subcommand and its options by name. */
function subcommand(context: InteractionContext): { name: string; values: Map<string, unknown> } {
  const data = context.interaction.data as { options?: APIApplicationCommandInteractionDataOption[] };
  const chosen = data.options?.[0] as APIApplicationCommandInteractionDataSubcommandOption | undefined;
  const values = new Map<string, unknown>();
  for (const option of chosen?.options ?? []) if ('value' in option) values.set(option.name, option.value);
  return { name: chosen?.name ?? '', values };
}

/** A Discord identity as a mention; anything else (a linked app account) as code. */
function mention(identity: string): string {
  return identity.startsWith('discord:') ? `<@${identity.slice('discord:'.length)}>` : `\`${identity}\``;
}
