import { InteractionResponseType } from 'discord.js';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture, slashCommand, webhook } from './test-support/discord-test-kit.ts';
import { type HttpHarness, startHttpHarness } from './test-support/transport-harness.ts';

let current: HttpHarness | undefined;
afterEach(async () => {
  await current?.close();
  current = undefined;
});

async function harness(environment: Record<string, string> = {}): Promise<HttpHarness> {
  current = await startHttpHarness(environment);
  return current;
}

const now = () => String(Math.floor(Date.now() / 1000));

describe('POST /discord/interactions', () => {
  it('answers PING with PONG', async () => {
    const testHarness = await harness();
    const body = JSON.stringify(fixture('ping.json'));
    const response = await testHarness.post(body, testHarness.signedHeaders(body));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual({ type: InteractionResponseType.Pong });
  });

  it('refuses a bad signature with 401 before reading the body', async () => {
    const testHarness = await harness();
    const body = JSON.stringify(fixture('ping.json'));
    const headers = testHarness.signedHeaders(body);
    const tampered = await testHarness.post(body.replace('"type":1', '"type":2'), headers);
    expect(tampered.statusCode).toBe(401);
    const notJsonButUnsigned = await testHarness.post('{not json', {
      ...headers,
      'content-type': 'text/plain',
    });
    expect(notJsonButUnsigned.statusCode).toBe(401);
    const missing = await testHarness.post(body, { 'content-type': 'application/json' });
    expect(missing.statusCode).toBe(401);
    const otherKey = await startHttpHarness();
    try {
      const foreign = await testHarness.post(body, otherKey.signedHeaders(body));
      expect(foreign.statusCode).toBe(401);
    } finally {
      await otherKey.close();
    }
    expect(tampered.json()).toEqual({ error: 'unauthorized', message: 'Invalid request signature' });
  });

  it('refuses a validly signed request whose timestamp is stale or from the future', async () => {
    const testHarness = await harness();
    const body = JSON.stringify(fixture('ping.json'));
    const stale = String(Math.floor(Date.now() / 1000) - 6 * 60);
    expect((await testHarness.post(body, testHarness.signedHeaders(body, stale))).statusCode).toBe(401);
    const future = String(Math.floor(Date.now() / 1000) + 6 * 60);
    expect((await testHarness.post(body, testHarness.signedHeaders(body, future))).statusCode).toBe(401);
    const recent = String(Math.floor(Date.now() / 1000) - 60);
    expect((await testHarness.post(body, testHarness.signedHeaders(body, recent))).statusCode).toBe(200);
  });

  it('answers a signed body that is not JSON with 400', async () => {
    const testHarness = await harness();
    const response = await testHarness.post('{not json', testHarness.signedHeaders('{not json', now()));
    expect(response.statusCode).toBe(400);
  });

  it('answers a signed body that is JSON but not an object with 400, not 500', async () => {
    const testHarness = await harness();
    for (const body of ['null', '1', '"x"', '[]', 'true']) {
      const response = await testHarness.post(body, testHarness.signedHeaders(body, now()));
      expect(response.statusCode, body).toBe(400);
      expect(response.json(), body).toEqual({
        error: 'invalid_json',
        message: 'The request body is not an interaction object',
      });
    }
  });

  it('works over a real socket: deferred response, then the webhook edits', async () => {
    const testHarness = await harness();
    const address = await testHarness.testApp.app.listen({ host: '127.0.0.1', port: 0 });
    const interaction = slashCommand('imagine', { prompt: 'a fox on a real socket' });
    const progress = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    const final = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    const body = JSON.stringify(interaction);
    const response = await fetch(`${address}/discord/interactions`, {
      method: 'POST',
      headers: testHarness.signedHeaders(body),
      body,
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ type: InteractionResponseType.DeferredChannelMessageWithSource });
    await progress;
    expect(await sharp((await final).files[0]?.bytes).metadata()).toMatchObject({
      width: 1024,
      height: 1024,
    });
  });

  it('retries an edit that beats Discord’s recording of the deferred answer', async () => {
    const testHarness = await harness();
    const interaction = slashCommand('imagine', { prompt: 'a quick fox' });
    const progress = testHarness.api.expect('PATCH', webhook.original(interaction.token), {
      status: 404,
      body: fixture('error-unknown-message.json'),
    });
    const progressAgain = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    const final = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    await testHarness.send(interaction);
    await progress;
    expect((await progressAgain).json.content).toMatch(/^🎨 Generating/);
    expect((await final).files).toHaveLength(1);
  });

  it('posts the image without the attachment when Discord refuses the upload, so nothing hangs', async () => {
    const testHarness = await harness();
    const interaction = slashCommand('imagine', { prompt: 'a heavy fox' });
    const progress = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    const refused = testHarness.api.expect('PATCH', webhook.original(interaction.token), {
      status: 413,
      body: { message: 'Request entity too large', code: 40005 },
    });
    const linked = testHarness.api.expect('PATCH', webhook.original(interaction.token));
    await testHarness.send(interaction);
    await progress;
    expect((await refused).files).toHaveLength(1);
    const fallback = await linked;
    expect(fallback.files).toEqual([]);
    expect(fallback.json.attachments).toEqual([]);
    expect(fallback.json.content).toMatch(
      /\nhttp:\/\/localhost:8000\/images\/discord_1300000000000000010\/[0-9a-f-]+\.png$/,
    );
    expect(fallback.json.embeds?.[0]?.image).toBeUndefined();
  });
});
