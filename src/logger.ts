import pino, { type Logger } from 'pino';

/**
 * Paths pino blanks before a line is written: tokens, keys and signatures never reach logs, whatever
 * object they travel in.
 */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["x-signature-ed25519"]',
  'req.headers["x-slack-signature"]',
  'headers.authorization',
  '*.authorization',
  '*.apiKey',
  '*.apiToken',
  'config.providers',
  'config.discord',
  'config.slack',
  '*.botToken',
  '*.appToken',
  '*.signingSecret',
  '*.api_key',
  '*.token',
  '*.idToken',
  '*.password',
  '*.secret',
  '*.privateKey',
  '*.private_key',
  'config.firebase',
];

/** The service logger: JSON lines in production, pretty in development. */
export function createLogger(settings: { level: string; pretty: boolean }): Logger {
  return pino({
    level: settings.level,
    redact: { paths: redactedPaths, censor: '[redacted]' },
    ...(settings.pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        }
      : {}),
  });
}
