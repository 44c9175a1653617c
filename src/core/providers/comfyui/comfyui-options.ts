import { z } from 'zod';

/**
 * The MODELS_FILE fields only a `provider: comfyui` entry has, spelled as the file spells them. Not strict:
 * the entry's common fields (`id`, `base_url`, `timeout_ms`, …) sit beside these, and the models-file
 * schema owns them.
 */
export const comfyuiEntryFieldsSchema = z.object({
  /**
   * A workflow saved in ComfyUI's API format ("Export (API)"). A relative path is read from the folder the
   * models file is in.
   */
  workflow: z.string().trim().min(1, 'name a workflow JSON file in ComfyUI API format'),
  /** The node whose images are the result; by default every node's saved (`type: output`) images. */
  output_node: z
    .union([z.string().trim().min(1), z.number().int().nonnegative()])
    .transform(String)
    .optional(),
  /** Between polls of `/history` when the websocket cannot be used (default 1000 ms). */
  poll_interval_ms: z.number().int().min(50).max(60_000).optional(),
});

/** The ComfyUI fields of one models-file entry, as parsed. */
export type ComfyUIEntryFields = z.infer<typeof comfyuiEntryFieldsSchema>;
