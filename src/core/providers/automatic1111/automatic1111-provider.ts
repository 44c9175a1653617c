import { z } from 'zod';
import { defineProvider } from '../provider-descriptor.ts';
import { throwUnlessReady, variablesOf } from '../self-hosted-context.ts';
import {
  automatic1111Capabilities,
  createAutomatic1111ImageModel,
  probeAutomatic1111,
} from './automatic1111-image-model.ts';
import { type Automatic1111Options, automatic1111OptionsShape } from './automatic1111-options.ts';

const entryOptions = z
  .strictObject(automatic1111OptionsShape)
  .refine((options) => (options.username_env === undefined) === (options.password_env === undefined), {
    message: 'username_env and password_env go together: set both or neither',
    path: ['password_env'],
  });

/**
 * AUTOMATIC1111's web UI, or Forge, started with `--api` on an operator's own GPU: txt2img and img2img with
 * the entry's checkpoint, steps, CFG scale and sampler, upscales with its `upscaler`; progress from
 * `/sdapi/v1/progress`; interrupted on cancel.
 */
export const automatic1111Provider = defineProvider<Automatic1111Options>({
  name: 'automatic1111',
  hosting: 'self-hosted',
  capabilities: automatic1111Capabilities,
  entryOptions,
  // Credentials, when the server asks for them, are read as each call is made: a missing one fails that
  // call as `credentials`, naming the variable, and routing moves on.
  isConfigured: () => true,
  createModel: (model, context) =>
    createAutomatic1111ImageModel({
      modelId: model.id,
      baseUrl: model.baseUrl ?? '',
      vendorModel: model.providerModel,
      maxImagesPerCall: model.maxImagesPerCall,
      capabilities: model.capabilities,
      timeoutMs: model.timeoutMs ?? context.retryPolicy.deadlineMs,
      options: model.options,
      sizes: model.fixedSizes,
      env: variablesOf(context),
      logger: context.logger,
    }),
  probe: (model, context, signal) =>
    throwUnlessReady(
      probeAutomatic1111({
        baseUrl: model.baseUrl ?? '',
        vendorModel: model.providerModel,
        options: model.options,
        env: variablesOf(context),
        fetch: (input, init) => fetch(input, { ...init, signal }),
      }),
    ),
});
