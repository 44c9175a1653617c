import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { comfyuiEntryFieldsSchema } from './comfyui-options.ts';
import {
  ComfyUIWorkflowError,
  type ComfyUIWorkflowValues,
  fillComfyUIWorkflow,
  loadComfyUIWorkflow,
  parseComfyUIWorkflow,
} from './comfyui-workflow.ts';

const repositoryRoot = path.resolve(import.meta.dirname, '../../../..');
const values: ComfyUIWorkflowValues = {
  prompt: 'a lighthouse on a cliff at sunset',
  negativePrompt: 'blurry',
  seed: 1234,
  width: 832,
  height: 1216,
  batchSize: 2,
};

/** Writes a workflow to a temporary file and returns its path. */
function workflowFile(content: unknown, name = 'workflow.json'): string {
  const directory = mkdtempSync(path.join(os.tmpdir(), 'imagine-comfyui-'));
  const file = path.join(directory, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function loadError(file: string, outputNode?: string): ComfyUIWorkflowError {
  try {
    loadComfyUIWorkflow(file, { outputNode });
  } catch (error) {
    if (ComfyUIWorkflowError.isInstance(error)) return error;
    throw error;
  }
  throw new Error(`expected ${file} to be refused`);
}

const minimal = {
  '6': { class_type: 'CLIPTextEncode', inputs: { text: '{{prompt}}', clip: ['4', 1] } },
  '4': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'model.safetensors' } },
};

describe('the shipped workflows', () => {
  for (const name of ['sdxl-text-to-image.json', 'flux-text-to-image.json']) {
    it(`${name} loads, and every placeholder is filled into valid API format`, () => {
      const workflow = loadComfyUIWorkflow(`workflows/${name}`, { relativeTo: repositoryRoot });
      const graph = fillComfyUIWorkflow(workflow, values);

      expect(JSON.stringify(graph)).not.toMatch(/\{\{\s*[a-z_]+\s*\}\}/);
      for (const [id, node] of Object.entries(graph)) {
        expect(typeof node.class_type, `node ${id}`).toBe('string');
        expect(node.inputs, `node ${id}`).toBeTypeOf('object');
        for (const input of Object.values(node.inputs)) {
          if (!Array.isArray(input)) continue;
          expect(input).toHaveLength(2);
          expect(Object.keys(graph), `node ${id} links to ${String(input[0])}`).toContain(input[0]);
          expect(Number.isInteger(input[1])).toBe(true);
        }
      }
      const byClass = (classType: string) =>
        Object.values(graph).filter((node) => node.class_type === classType);
      const sampler = byClass('KSampler')[0];
      expect(sampler?.inputs.seed).toBe(1234);
      const latent = Object.values(graph).find((node) => node.class_type.startsWith('Empty'));
      expect(latent?.inputs).toMatchObject({ width: 832, height: 1216, batch_size: 2 });
      expect(byClass('CLIPTextEncode').map((node) => node.inputs.text)).toContain(values.prompt);
      expect(byClass('SaveImage')).toHaveLength(1);
      expect(workflow.placeholders).toEqual(
        new Set(
          name.startsWith('sdxl')
            ? ['prompt', 'negative_prompt', 'seed', 'width', 'height', 'batch_size']
            : ['prompt', 'seed', 'width', 'height', 'batch_size'],
        ),
      );
    });
  }

  it('the SDXL workflow loads sd_xl_base_1.0 and takes the negative prompt', () => {
    const workflow = loadComfyUIWorkflow(path.join(repositoryRoot, 'workflows/sdxl-text-to-image.json'));
    const graph = fillComfyUIWorkflow(workflow, values);
    expect(graph['4']?.inputs.ckpt_name).toBe('sd_xl_base_1.0.safetensors');
    expect(graph['7']?.inputs.text).toBe('blurry');
  });

  it('the SDXL image-to-image workflow loads the uploaded image and denoises by the strength', () => {
    const workflow = loadComfyUIWorkflow('workflows/sdxl-image-to-image.json', {
      relativeTo: repositoryRoot,
    });
    const graph = fillComfyUIWorkflow(workflow, { ...values, image: 'imagine-init.png', strength: 0.35 });

    expect(workflow.placeholders).toEqual(
      new Set(['image', 'prompt', 'negative_prompt', 'seed', 'batch_size', 'denoise']),
    );
    expect(JSON.stringify(graph)).not.toMatch(/\{\{\s*[a-z_]+\s*\}\}/);
    expect(graph['10']).toMatchObject({ class_type: 'LoadImage', inputs: { image: 'imagine-init.png' } });
    expect(graph['3']?.inputs).toMatchObject({ seed: 1234, denoise: 0.35, latent_image: ['12', 0] });
    expect(graph['12']?.inputs).toMatchObject({ amount: 2 });
    expect(graph['4']?.inputs.ckpt_name).toBe('sd_xl_base_1.0.safetensors');
  });

  it('fills {{strength}} as {{denoise}} is filled, and refuses to fill {{image}} with nothing', () => {
    const workflow = parseComfyUIWorkflow(
      {
        ...minimal,
        '10': { class_type: 'LoadImage', inputs: { image: '{{image}}' } },
        '3': { class_type: 'KSampler', inputs: { denoise: '{{strength}}', note: 'at {{strength}}' } },
      },
      'inline.json',
    );

    expect(
      fillComfyUIWorkflow(workflow, { ...values, image: 'in/a.png', strength: 0.8 })['3']?.inputs,
    ).toEqual({
      denoise: 0.8,
      note: 'at 0.8',
    });
    expect(() => fillComfyUIWorkflow(workflow, { ...values, strength: 0.8 })).toThrow('needs {{image}}');
  });

  it('the Flux workflow loads flux1-schnell-fp8 and samples in 4 steps at cfg 1', () => {
    const workflow = loadComfyUIWorkflow(path.join(repositoryRoot, 'workflows/flux-text-to-image.json'));
    const graph = fillComfyUIWorkflow(workflow, values);
    expect(graph['4']?.inputs.ckpt_name).toBe('flux1-schnell-fp8.safetensors');
    expect(graph['3']?.inputs).toMatchObject({ steps: 4, cfg: 1 });
  });
});

describe('filling a workflow', () => {
  it('puts numbers where a string is only a numeric placeholder, and text inside text', () => {
    const workflow = parseComfyUIWorkflow(
      {
        ...minimal,
        '3': {
          class_type: 'KSampler',
          inputs: { seed: '{{seed}}', note: 'seed {{seed}} at {{width}}x{{height}}', steps: 20 },
        },
        '9': { class_type: 'SaveImage', inputs: { filename_prefix: 'run-{{ seed }}', images: ['3', 0] } },
      },
      'inline.json',
    );
    const graph = fillComfyUIWorkflow(workflow, values);
    expect(graph['3']?.inputs).toEqual({ seed: 1234, note: 'seed 1234 at 832x1216', steps: 20 });
    expect(graph['9']?.inputs.filename_prefix).toBe('run-1234');
  });

  it('keeps the prompt exactly as typed: quotes, backslashes, $& and a {{seed}} in it are not interpreted', () => {
    const prompt = 'a "lighthouse", $& {{seed}} \\ at\nsunset';
    const workflow = parseComfyUIWorkflow(
      { ...minimal, '7': { class_type: 'CLIPTextEncode', inputs: { text: 'style: {{prompt}}!' } } },
      'inline.json',
    );
    const graph = fillComfyUIWorkflow(workflow, { ...values, prompt });
    expect(graph['6']?.inputs.text).toBe(prompt);
    expect(graph['7']?.inputs.text).toBe(`style: ${prompt}!`);
    // What goes over the wire is JSON that reads back to the same text.
    expect(JSON.parse(JSON.stringify(graph))['7'].inputs.text).toBe(`style: ${prompt}!`);
  });

  it('leaves the loaded workflow untouched, so each call starts from the placeholders', () => {
    const workflow = parseComfyUIWorkflow(minimal, 'inline.json');
    fillComfyUIWorkflow(workflow, values);
    expect(workflow.graph['6']?.inputs.text).toBe('{{prompt}}');
  });
});

describe('a workflow that cannot be used stops start-up, naming the file', () => {
  it('a missing file', () => {
    const error = loadError('/nonexistent/sdxl.json');
    expect(error.message).toContain('/nonexistent/sdxl.json');
    expect(error.message).toContain('no such file');
  });

  it('a file that is not JSON', () => {
    const file = workflowFile('{ "3": ');
    expect(loadError(file).message).toMatch(new RegExp(`${file}: is not JSON`));
  });

  it('the editor format instead of the API format', () => {
    const file = workflowFile({ last_node_id: 9, nodes: [], links: [] });
    expect(loadError(file).message).toContain('Export (API)');
    expect(loadError(file).file).toBe(file);
  });

  it('a node without class_type or inputs', () => {
    const file = workflowFile({ ...minimal, '8': { inputs: {} } });
    expect(loadError(file).message).toContain('node "8" needs a "class_type" string and an "inputs" object');
  });

  it('a link to a node the workflow does not have', () => {
    const file = workflowFile({
      ...minimal,
      '8': { class_type: 'VAEDecode', inputs: { samples: ['99', 0] } },
    });
    expect(loadError(file).message).toContain(
      `${file}: node "8" (VAEDecode) input "samples" links to node "99", which the workflow does not have`,
    );
  });

  it('a list that is not a link', () => {
    const file = workflowFile({
      ...minimal,
      '8': { class_type: 'VAEDecode', inputs: { samples: [1, 2, 3] } },
    });
    expect(loadError(file).message).toContain('input "samples" is a list but not a link');
  });

  it('an unknown placeholder, listing the known ones', () => {
    const file = workflowFile({
      ...minimal,
      '3': { class_type: 'KSampler', inputs: { steps: '{{steps}}' } },
    });
    const { message } = loadError(file);
    expect(message).toContain('node "3" (KSampler) input "steps" uses {{steps}}');
    expect(message).toContain('{{negative_prompt}}');
  });

  it('{{denoise}} without an {{image}}', () => {
    const file = workflowFile({
      ...minimal,
      '3': { class_type: 'KSampler', inputs: { denoise: '{{denoise}}' } },
    });
    expect(loadError(file).message).toContain('uses {{strength}} or {{denoise}} without an {{image}}');
  });

  it('no {{prompt}}', () => {
    const file = workflowFile({ '4': minimal['4'] });
    expect(loadError(file).message).toContain('has no {{prompt}}');
  });

  it('an output_node the workflow does not have', () => {
    const file = workflowFile(minimal);
    expect(loadError(file, '9').message).toContain('output_node "9" is not a node of this workflow');
  });
});

describe('the models-file fields of a ComfyUI entry', () => {
  it('takes a workflow path and an output node written as a number or a string', () => {
    expect(
      comfyuiEntryFieldsSchema.parse({ workflow: 'workflows/sdxl-text-to-image.json', output_node: 9 }),
    ).toEqual({ workflow: 'workflows/sdxl-text-to-image.json', output_node: '9' });
    expect(comfyuiEntryFieldsSchema.parse({ workflow: 'a.json', output_node: '12' }).output_node).toBe('12');
  });

  it('refuses an entry without a workflow', () => {
    const parsed = comfyuiEntryFieldsSchema.safeParse({ output_node: '9' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['workflow']);
  });
});
