/**
 * Operators' own GPUs end to end: the service listening on a socket with a MODELS_FILE that names an
 * AUTOMATIC1111 and a ComfyUI server (stand-ins on 127.0.0.1 speaking their APIs), driven through the REST
 * API and through /imagine over Discord's HTTP interactions. The models are listed, reported ready and
 * serve images with their own settings.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { slashCommand, webhook } from './bots/discord/test-support/discord-test-kit.ts';
import { type HttpHarness, startHttpHarness } from './bots/discord/test-support/transport-harness.ts';
import { type ComfyUIStandIn, startComfyUIStandIn } from './test-support/comfyui-stand-in.ts';
import { type StandInServer, sendJson, startStandInServer } from './test-support/stand-in-server.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const a1111Fixtures = path.join(projectRoot, 'src/core/providers/automatic1111/__fixtures__');
const recorded = (name: string) => JSON.parse(fs.readFileSync(path.join(a1111Fixtures, name), 'utf8'));

let a1111: StandInServer | undefined;
let comfyui: ComfyUIStandIn | undefined;
let harness: HttpHarness | undefined;
let folder: string | undefined;
afterEach(async () => {
  await harness?.close();
  await a1111?.close();
  await comfyui?.close();
  if (folder) fs.rmSync(folder, { recursive: true, force: true });
  harness = undefined;
  a1111 = undefined;
  comfyui = undefined;
  folder = undefined;
});

async function start(): Promise<{ harness: HttpHarness; address: string }> {
  a1111 = await startStandInServer((request, response) => {
    if (request.pathname === '/sdapi/v1/txt2img') sendJson(response, 200, recorded('txt2img-success.json'));
    else if (request.pathname === '/sdapi/v1/sd-models') sendJson(response, 200, recorded('sd-models.json'));
    else if (request.pathname === '/sdapi/v1/progress')
      sendJson(response, 200, recorded('progress-idle.json'));
  });
  comfyui = await startComfyUIStandIn();
  folder = fs.mkdtempSync(path.join(os.tmpdir(), 'imagine-backends-'));
  const modelsFile = path.join(folder, 'models.yaml');
  fs.writeFileSync(
    modelsFile,
    [
      'models:',
      '  - id: gpu-sdxl',
      '    provider: automatic1111',
      `    base_url: ${a1111.url}`,
      '    vendor_model: sd_xl_base_1.0.safetensors',
      '    price_usd: 0',
      '    steps: 24',
      '    cfg_scale: 6.5',
      '    sampler: DPM++ 2M',
      '  - id: gpu-flux',
      '    provider: comfyui',
      `    base_url: ${comfyui.baseUrl}`,
      `    workflow: ${path.join(projectRoot, 'workflows/flux-text-to-image.json')}`,
      '    price_usd: 0',
      '',
    ].join('\n'),
  );
  harness = await startHttpHarness({ MODELS_FILE: modelsFile, IMAGE_MODEL: 'gpu-sdxl' });
  const address = await harness.testApp.app.listen({ host: '127.0.0.1', port: 0 });
  return { harness, address };
}

describe('self-hosted backends from a models file', () => {
  it('lists both, reports them ready, and serves REST requests through A1111 with its settings', async () => {
    const { harness: running, address } = await start();
    const authorization = await running.testApp.bearerFor('alice');
    const listed = (await (
      await fetch(`${address}/api/v1/models`, { headers: { authorization } })
    ).json()) as { models: Array<{ id: string; provider: string; price_usd: number }> };
    expect(listed.models.filter((model) => model.id.startsWith('gpu-'))).toMatchObject([
      { id: 'gpu-sdxl', provider: 'automatic1111', price_usd: 0 },
      { id: 'gpu-flux', provider: 'comfyui', price_usd: 0 },
    ]);
    const health = (await (await fetch(`${address}/health`)).json()) as {
      provider: { readiness: Array<{ id: string; ready: boolean }> };
    };
    expect(health.provider.readiness.filter((model) => model.id.startsWith('gpu-'))).toEqual([
      { id: 'gpu-sdxl', provider: 'automatic1111', ready: true },
      { id: 'gpu-flux', provider: 'comfyui', ready: true },
    ]);

    const response = await fetch(`${address}/api/v1/generate/image`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a lighthouse at dusk', size: '512x512', seed: 1234 }),
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { model: string; cost: number; image_url: string };
    expect(body).toMatchObject({ model: 'gpu-sdxl', cost: 0 });
    const txt2img = a1111?.requests.find((request) => request.pathname === '/sdapi/v1/txt2img');
    expect(txt2img?.body).toMatchObject({
      width: 512,
      height: 512,
      seed: 1234,
      steps: 24,
      cfg_scale: 6.5,
      sampler_name: 'DPM++ 2M',
      override_settings: { sd_model_checkpoint: 'sd_xl_base_1.0.safetensors' },
    });
    expect(String((txt2img?.body as { prompt?: string } | undefined)?.prompt)).toContain(
      'a lighthouse at dusk',
    );
    const image = await fetch(body.image_url.replace(/^https?:\/\/[^/]+/, address));
    expect(image.status).toBe(200);
    expect((await sharp(Buffer.from(await image.arrayBuffer())).metadata()).format).toBe('png');
  });

  it('serves /imagine over Discord HTTP interactions through the ComfyUI workflow', async () => {
    const { harness: running } = await start();
    const interaction = slashCommand('imagine', { prompt: 'a red fox in the snow', model: 'gpu-flux' });
    const working = running.api.expect('PATCH', webhook.original(interaction.token));
    const final = running.api.expect('PATCH', webhook.original(interaction.token), {}, 15_000);
    await running.send(interaction);
    await working;
    const posted = await final;
    expect(posted.files).toHaveLength(1);
    expect((await sharp(posted.files[0]?.bytes).metadata()).format).toBe('png');
    const [job] = comfyui?.jobs ?? [];
    const graphText = JSON.stringify(job?.graph);
    expect(graphText).toContain('a red fox in the snow');
    expect(
      (
        await running.services.records.listForUser(
          `discord:${interaction.member?.user.id ?? interaction.user?.id}`,
          {
            limit: 5,
            cursor: undefined,
          },
        )
      ).records[0],
    ).toMatchObject({ model: 'gpu-flux' });
  });
});
