import path from 'node:path';
import { z } from 'zod';
import type { ModelDescriptor } from '../model-catalog.ts';
import { defineProvider } from '../provider-descriptor.ts';
import { throwUnlessReady } from '../self-hosted-context.ts';
import { comfyuiWorkflowCapabilities, createComfyUIImageModel, probeComfyUI } from './comfyui-image-model.ts';
import { type ComfyUIEntryFields, comfyuiEntryFieldsSchema } from './comfyui-options.ts';
import { type ComfyUIWorkflow, ComfyUIWorkflowError, loadComfyUIWorkflow } from './comfyui-workflow.ts';

const entryOptions = z.strictObject(comfyuiEntryFieldsSchema.shape);

/** The workflow an entry names, read from the models file's folder when its path is relative. */
function workflowOf(model: ModelDescriptor<ComfyUIEntryFields>): ComfyUIWorkflow {
  return loadComfyUIWorkflow(model.options.workflow, {
    outputNode: model.options.output_node,
    relativeTo: model.definedIn ? path.dirname(model.definedIn) : undefined,
  });
}

/**
 * A ComfyUI server running a workflow the operator exported in API format, with `{{prompt}}`, `{{seed}}`,
 * `{{width}}`… where the request's values go; progress and completion from its websocket. A workflow with
 * `{{image}}` (and `{{denoise}}`) is an image-to-image entry; any other draws from text.
 */
export const comfyuiProvider = defineProvider<ComfyUIEntryFields>({
  name: 'comfyui',
  hosting: 'self-hosted',
  capabilities: ['text_to_image', 'image_to_image'],
  entryOptions,
  capabilitiesOf: (model) => comfyuiWorkflowCapabilities(workflowOf(model)),
  // A workflow that cannot be read or lacks {{prompt}} stops start-up, naming the file.
  checkEntry: (model) => {
    try {
      workflowOf(model);
      return [];
    } catch (error) {
      if (!ComfyUIWorkflowError.isInstance(error)) throw error;
      return [{ field: 'workflow', message: error.message }];
    }
  },
  isConfigured: (model, context) =>
    model.apiKeyEnv === undefined || context.variable(model.apiKeyEnv) !== undefined,
  createModel: (model, context) =>
    createComfyUIImageModel({
      modelId: model.id,
      baseUrl: model.baseUrl ?? '',
      workflow: workflowOf(model),
      capabilities: model.capabilities,
      maxImagesPerCall: model.maxImagesPerCall,
      timeoutMs: model.timeoutMs ?? context.retryPolicy.deadlineMs,
      apiKey: model.apiKeyEnv ? context.variable(model.apiKeyEnv) : undefined,
      pollIntervalMs: model.options.poll_interval_ms,
      maxImageBytes: context.settings.downloadMaxBytes,
      logger: context.logger,
    }),
  probe: (model, context, signal) =>
    throwUnlessReady(
      probeComfyUI({
        baseUrl: model.baseUrl ?? '',
        apiKey: model.apiKeyEnv ? context.variable(model.apiKeyEnv) : undefined,
        fetch: (input, init) => fetch(input, { ...init, signal }),
      }),
    ),
});
