import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const marker = Symbol.for('imagine.comfyui-workflow-error');

/** A workflow file that cannot be used: found at start-up, with the file named in the message. */
export class ComfyUIWorkflowError extends Error {
  readonly [marker] = true;
  readonly file: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`ComfyUI workflow ${file}: ${problem}`, options);
    this.name = 'ComfyUIWorkflowError';
    this.file = file;
  }

  /** True for ComfyUIWorkflowErrors from any copy of this module. */
  static isInstance(value: unknown): value is ComfyUIWorkflowError {
    return typeof value === 'object' && value !== null && marker in value;
  }
}

/**
 * The placeholders a workflow may contain. `image` is the name of the call's init image once uploaded
 * (`POST /upload/image`), for a LoadImage node; `strength` and `denoise` are both the call's strength
 * (0 keeps the image, 1 ignores it), as a KSampler's `denoise` takes it.
 */
export const comfyuiPlaceholders = [
  'prompt',
  'negative_prompt',
  'seed',
  'width',
  'height',
  'batch_size',
  'image',
  'strength',
  'denoise',
] as const;

/** A placeholder this version fills in. */
export type ComfyUIPlaceholder = (typeof comfyuiPlaceholders)[number];

/** What one call puts in place of the placeholders. */
export interface ComfyUIWorkflowValues {
  prompt: string;
  /** Empty when the caller gave none. */
  negativePrompt: string;
  seed: number;
  width: number;
  height: number;
  batchSize: number;
  /** The uploaded init image as LoadImage names it (`subfolder/name`); needed when the workflow has `{{image}}`. */
  image?: string | undefined;
  /** 0–1; needed when the workflow has `{{strength}}` or `{{denoise}}`. */
  strength?: number | undefined;
}

/** One node of a graph in API format: `inputs` holds literal values and links (`[node id, output index]`). */
export interface ComfyUINode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string | undefined } | undefined;
}

/** A graph in ComfyUI's API format, keyed by node id: what `POST /prompt` takes as `prompt`. */
export type ComfyUIGraph = Record<string, ComfyUINode>;

/** A checked workflow, ready to be filled in for each call. */
export interface ComfyUIWorkflow {
  /** The file it was read from, for logs and errors. */
  readonly file: string;
  /** The graph with its placeholders still in it. */
  readonly graph: Readonly<ComfyUIGraph>;
  /** The placeholders it uses; a model warns about what the workflow cannot take (a seed, a negative prompt). */
  readonly placeholders: ReadonlySet<ComfyUIPlaceholder>;
  /** The node whose images are the result, when the entry names one. */
  readonly outputNode: string | undefined;
}

const placeholderPattern = /\{\{\s*([A-Za-z_]+)\s*\}\}/g;
const wholePlaceholderPattern = /^\{\{\s*([A-Za-z_]+)\s*\}\}$/;

const nodeSchema = z.looseObject({
  class_type: z.string().min(1),
  inputs: z.record(z.string(), z.unknown()),
  _meta: z.looseObject({ title: z.string().optional() }).optional(),
});

/**
 * Reads and checks a workflow file (relative paths from `relativeTo`, the models file's folder). Throws a
 * ComfyUIWorkflowError naming the file when it is missing, not JSON, not in API format, has a link to a
 * node it lacks, an unknown placeholder, no `{{prompt}}`, or an `outputNode` it does not contain.
 */
export function loadComfyUIWorkflow(
  file: string,
  options: { outputNode?: string | undefined; relativeTo?: string | undefined } = {},
): ComfyUIWorkflow {
  const resolved = path.resolve(options.relativeTo ?? process.cwd(), file);
  let text: string;
  try {
    text = readFileSync(resolved, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new ComfyUIWorkflowError(resolved, `cannot be read (${reason})`, { cause: error });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ComfyUIWorkflowError(resolved, `is not JSON (${(error as Error).message})`, { cause: error });
  }
  return parseComfyUIWorkflow(value, resolved, options.outputNode);
}

/** Checks a parsed workflow (see loadComfyUIWorkflow); `file` names it in errors. */
export function parseComfyUIWorkflow(
  value: unknown,
  file: string,
  outputNode?: string | undefined,
): ComfyUIWorkflow {
  const fail = (problem: string): never => {
    throw new ComfyUIWorkflowError(file, problem);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail('is not an object of nodes keyed by id (save it with "Export (API)")');
  }
  if ('nodes' in value && 'links' in value) {
    return fail('is in the editor format; in ComfyUI use "Export (API)" and point at that file');
  }
  const graph: ComfyUIGraph = {};
  for (const [id, node] of Object.entries(value)) {
    const parsed = nodeSchema.safeParse(node);
    if (!parsed.success) fail(`node "${id}" needs a "class_type" string and an "inputs" object`);
    else graph[id] = parsed.data;
  }
  if (Object.keys(graph).length === 0) fail('has no nodes');

  const placeholders = new Set<ComfyUIPlaceholder>();
  for (const [id, node] of Object.entries(graph)) {
    const where = `node "${id}" (${node.class_type})`;
    for (const [input, inputValue] of Object.entries(node.inputs)) {
      if (Array.isArray(inputValue)) {
        checkLink(inputValue, graph, `${where} input "${input}"`, fail);
        continue;
      }
      for (const name of placeholdersIn(inputValue)) {
        if (!isPlaceholder(name)) {
          fail(`${where} input "${input}" uses {{${name}}}; the placeholders are ${placeholderList()}`);
        } else {
          placeholders.add(name);
        }
      }
    }
  }
  if (!placeholders.has('prompt')) fail('has no {{prompt}}, so every image would ignore the prompt');
  if (!placeholders.has('image') && (placeholders.has('strength') || placeholders.has('denoise'))) {
    fail('uses {{strength}} or {{denoise}} without an {{image}} for it to apply to');
  }
  if (outputNode !== undefined && !Object.hasOwn(graph, outputNode)) {
    fail(`output_node "${outputNode}" is not a node of this workflow`);
  }
  return { file, graph, placeholders, outputNode };
}

/**
 * The graph for one call: every placeholder replaced. A string that is only a numeric placeholder becomes
 * that number (`"{{seed}}"` → 1234); placeholders inside text become text. Values are put into the parsed
 * graph, not into JSON text, so a prompt with quotes or `$&` stays exactly what the user typed.
 */
export function fillComfyUIWorkflow(workflow: ComfyUIWorkflow, values: ComfyUIWorkflowValues): ComfyUIGraph {
  const needs = (name: ComfyUIPlaceholder, value: string | number | undefined): string | number => {
    // The model refuses a call without an image before filling; reaching here without one is a bug.
    if (value === undefined && workflow.placeholders.has(name))
      throw new Error(`${workflow.file} needs {{${name}}}, and no value was given`);
    return value ?? '';
  };
  const byName: Record<ComfyUIPlaceholder, string | number> = {
    prompt: values.prompt,
    negative_prompt: values.negativePrompt,
    seed: values.seed,
    width: values.width,
    height: values.height,
    batch_size: values.batchSize,
    image: needs('image', values.image),
    strength: needs('strength', values.strength),
    denoise: needs('denoise', values.strength),
  };
  const fill = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const whole = wholePlaceholderPattern.exec(value)?.[1];
      if (whole !== undefined && isPlaceholder(whole)) return byName[whole];
      return value.replace(placeholderPattern, (text, name: string) =>
        isPlaceholder(name) ? String(byName[name]) : text,
      );
    }
    // Links ([id, index]) hold no strings worth filling but pass through the same way.
    if (Array.isArray(value)) return value.map(fill);
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, fill(inner)]));
    }
    return value;
  };
  const graph: ComfyUIGraph = {};
  for (const [id, node] of Object.entries(workflow.graph)) {
    graph[id] = { ...node, inputs: fill(node.inputs) as Record<string, unknown> };
  }
  return graph;
}

function checkLink(
  link: unknown[],
  graph: ComfyUIGraph,
  where: string,
  fail: (problem: string) => never,
): void {
  const [target, index] = link;
  if (link.length !== 2 || typeof target !== 'string' || !Number.isInteger(index) || (index as number) < 0) {
    fail(`${where} is a list but not a link ["<node id>", <output index>]`);
  }
  if (!Object.hasOwn(graph, target as string)) {
    fail(`${where} links to node "${String(target)}", which the workflow does not have`);
  }
}

/** Placeholder names in a literal input (strings, and strings nested in objects some custom nodes take). */
function placeholdersIn(value: unknown): string[] {
  if (typeof value === 'string')
    return [...value.matchAll(placeholderPattern)].map((match) => match[1] ?? '');
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(placeholdersIn);
  return [];
}

function isPlaceholder(name: string): name is ComfyUIPlaceholder {
  return (comfyuiPlaceholders as readonly string[]).includes(name);
}

function placeholderList(): string {
  return comfyuiPlaceholders.map((name) => `{{${name}}}`).join(', ');
}
