import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import type { Services } from '../../services.ts';
import { createTestServices, onePng, scriptedModel } from '../../test-support/test-services.ts';
import {
  fixture,
  HttpTransport,
  httpEnvironment,
  SlackStandIn,
  slashCommand,
} from './__fixtures__/slack-stand-in.ts';
import { createSlackApp, imagesArePublic } from './slack-app.ts';

let services: Services | undefined;
afterEach(async () => {
  await services?.close();
  services = undefined;
});

async function httpApp() {
  services = await createTestServices(httpEnvironment);
  const settings = services.config.slack;
  if (!settings) throw new Error('no Slack settings');
  return createSlackApp(services, settings);
}

describe('starting the Slack app', () => {
  it('checks the bot token with auth.test and starts', async () => {
    const app = await httpApp();
    nock('https://slack.com').post('/api/auth.test').reply(200, fixture('auth-test.json'));
    await expect(app.start()).resolves.toBeUndefined();
    await app.stop();
  });

  it('refuses to start with a bot token Slack rejects, naming the variable', async () => {
    const app = await httpApp();
    nock('https://slack.com').post('/api/auth.test').reply(200, fixture('error-invalid-auth.json'));
    await expect(app.start()).rejects.toThrow(/SLACK_BOT_TOKEN \(invalid_auth\)/);
  });

  it('has routes in HTTP mode only', async () => {
    const app = await httpApp();
    expect(app.routes).toBeDefined();
    const socketServices = await createTestServices({
      ...httpEnvironment,
      SLACK_MODE: 'socket',
      SLACK_APP_TOKEN: 'xapp-1-test',
    });
    const socketSettings = socketServices.config.slack;
    if (!socketSettings) throw new Error('no Slack settings');
    expect(createSlackApp(socketServices, socketSettings).routes).toBeUndefined();
    await socketServices.close();
  });
});

describe('stopping', () => {
  it('closing the server waits for an image still being made, and it is still delivered', async () => {
    const slowModel = scriptedModel(async () => {
      await new Promise((resolve) => setTimeout(resolve, 300));
      return onePng();
    });
    const transport = await HttpTransport.start({}, [slowModel]);
    const slack = new SlackStandIn().uploadFlow().responseUrls();
    await transport.command(slashCommand());
    expect(slack.responses).toHaveLength(0);
    await transport.close();
    expect(slack.uploads).toHaveLength(1);
    expect(slack.responses[0]?.body.text).toMatch(/^✅ Posted/);
  });
});

describe('whether Slack can fetch images by URL', () => {
  const withBase = (publicBaseUrl: string, kind: 'local' | 'memory' = 'local') =>
    ({
      config: { server: { publicBaseUrl }, storage: { kind: 'local' } },
      storage: { kind },
    }) as unknown as Pick<Services, 'config' | 'storage'>;

  it.each([
    ['https://imagine.example.com', true],
    ['http://imagine.example.com', false],
    ['https://localhost:8000', false],
    ['https://192.168.1.20', false],
    ['https://imagine.internal', false],
  ])('%s → %s', (base, expected) => {
    expect(imagesArePublic(withBase(base))).toBe(expected);
  });

  it('never for in-memory storage; for Firebase only when objects are made public', () => {
    expect(imagesArePublic(withBase('https://imagine.example.com', 'memory'))).toBe(false);
    const firebase = (makePublic: boolean) =>
      ({
        config: {
          server: { publicBaseUrl: 'http://localhost' },
          storage: { kind: 'firebase', bucket: 'b', makePublic },
        },
        storage: { kind: 'firebase' },
      }) as unknown as Pick<Services, 'config' | 'storage'>;
    expect(imagesArePublic(firebase(true))).toBe(true);
    expect(imagesArePublic(firebase(false))).toBe(false);
  });

  it('for S3 when S3_PUBLIC_BASE_URL is public HTTPS, whatever PUBLIC_BASE_URL is', () => {
    const s3 = (publicBaseUrl: string) =>
      ({
        config: {
          server: { publicBaseUrl: 'http://localhost' },
          storage: { kind: 's3', bucket: 'b', region: 'auto', publicBaseUrl },
        },
        storage: { kind: 's3' },
      }) as unknown as Pick<Services, 'config' | 'storage'>;
    expect(imagesArePublic(s3('https://images.example.com'))).toBe(true);
    expect(imagesArePublic(s3('http://127.0.0.1:9000/imagine'))).toBe(false);
  });
});
