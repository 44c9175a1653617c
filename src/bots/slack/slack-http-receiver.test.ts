/** `POST /slack/events` on the running server: Slack's signature is checked first, then Bolt answers. */
import { afterEach, describe, expect, it } from 'vitest';
import { onePng, scriptedModel } from '../../test-support/test-services.ts';
import {
  appHomeOpened,
  HttpTransport,
  SlackStandIn,
  signedHeaders,
  slashCommand,
} from './__fixtures__/slack-stand-in.ts';

let current: HttpTransport | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

const form = 'application/x-www-form-urlencoded';

describe('POST /slack/events', () => {
  it('refuses a request signed with another secret with 401, before anything runs', async () => {
    current = await HttpTransport.start();
    const command = slashCommand();
    const body = new URLSearchParams(command).toString();
    const response = await current.post(
      body,
      signedHeaders(body, form, { secret: 'not-the-signing-secret' }),
    );

    expect(response).toEqual({
      status: 401,
      body: { error: 'unauthorized', message: 'This request is not signed by Slack' },
    });
    // Nothing was claimed or generated (and nothing called Slack: the network guard would fail the test).
    expect(current.services.processedEvents.claim(`slack:command:${command.trigger_id}`)).toBe(true);
    expect((await current.services.chatImages.usage(`slack:T0001TEAM:U0001ALICE`)).used).toBe(0);
  });

  it('refuses a correctly signed request older than five minutes, and one from the future, with 401', async () => {
    current = await HttpTransport.start();
    const body = new URLSearchParams(slashCommand()).toString();
    const now = Math.floor(Date.now() / 1000);
    const stale = await current.post(body, signedHeaders(body, form, { timestamp: now - 6 * 60 }));
    const future = await current.post(body, signedHeaders(body, form, { timestamp: now + 6 * 60 }));
    expect([stale.status, future.status]).toEqual([401, 401]);
  });

  it('refuses a request without Slack headers, and a tampered body, with 401', async () => {
    current = await HttpTransport.start();
    const body = new URLSearchParams(slashCommand()).toString();
    const unsigned = await current.post(body, { 'content-type': form });
    const headers = signedHeaders(body, form);
    const tampered = await current.post(body.replace('lighthouse', 'lighthousf'), headers);
    const retried = await current.post(body, {
      ...signedHeaders(body, form, { secret: 'wrong' }),
      'x-slack-retry-num': '1',
    });
    expect([unsigned.status, tampered.status, retried.status]).toEqual([401, 401, 401]);
  });

  it('acknowledges within milliseconds while the image is still being made', async () => {
    const slowModel = scriptedModel(async () => {
      await new Promise((resolve) => setTimeout(resolve, 400));
      return onePng();
    });
    current = await HttpTransport.start({}, [slowModel]);
    const slack = new SlackStandIn().uploadFlow().responseUrls();

    const startedAt = performance.now();
    const ack = await current.command(slashCommand());
    const ackMs = performance.now() - startedAt;
    expect(ack).toMatchObject({ response_type: 'ephemeral' });
    expect(ackMs).toBeLessThan(300);
    expect(slack.responses).toHaveLength(0);

    await slack.until(() => slack.responses.length === 1);
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(400);
  });

  it("answers Slack's URL verification challenge (signed)", async () => {
    current = await HttpTransport.start();
    const body = JSON.stringify({
      token: 'x',
      challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P',
      type: 'url_verification',
    });
    const response = await current.post(body, signedHeaders(body, 'application/json'));
    expect(response).toEqual({
      status: 200,
      body: { challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' },
    });
  });

  it("answers Slack's unsigned SSL check with an empty 200 and runs nothing else", async () => {
    current = await HttpTransport.start();
    const body = new URLSearchParams({ ssl_check: '1', ...slashCommand() }).toString();
    const response = await current.post(body, { 'content-type': form });
    expect(response).toEqual({ status: 200, body: undefined });
    expect((await current.services.chatImages.usage('slack:T0001TEAM:U0001ALICE')).used).toBe(0);
  });

  it('answers 400 to a signed body that is not JSON, and to a content type Slack does not send', async () => {
    current = await HttpTransport.start();
    const broken = '{"type": "event_callback"';
    const malformed = await current.post(broken, signedHeaders(broken, 'application/json'));
    const text = await current.post('hello', signedHeaders('hello', 'text/plain'));
    expect([malformed.status, text.status]).toEqual([400, 400]);
  });

  it('acknowledges a command it does not know with an empty 200, and JSON with a charset', async () => {
    current = await HttpTransport.start();
    const other = await current.command(slashCommand({ command: '/something-else' }));
    expect(other).toBeUndefined();

    const slack = new SlackStandIn().method('views.publish');
    const body = JSON.stringify(appHomeOpened());
    const response = await current.post(body, signedHeaders(body, 'application/json; charset=utf-8'));
    expect(response.status).toBe(200);
    await slack.until(() => slack.callsTo('views.publish').length === 1);
  });

  it('is not behind the API key check', async () => {
    current = await HttpTransport.start();
    const ack = await current.command(slashCommand({ command: '/imagine-usage', text: '' }));
    expect(ack).toMatchObject({ response_type: 'ephemeral' });
  });
});
