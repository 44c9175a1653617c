import type { GenerationWarning } from '../providers/image-model.ts';
import type { GenerationKind, GenerationRecord, GenerationSource } from './generation-records.ts';

// The generations table's row as every engine reads it (the schemas match column for column), and the one
// mapping from a row to a record, so the engines cannot read a row differently.

/** A `generations` row. SQLite keeps instants as ISO text; PostgreSQL's driver answers a bigint as a string. */
export interface GenerationRow {
  id: string;
  user_id: string;
  batch_id: string | null;
  source: GenerationSource;
  prompt: string;
  prompt_used: string;
  negative_prompt: string | null;
  style: string | null;
  model: string;
  seed: number | string | null;
  width: number;
  height: number;
  quality: 'standard' | 'high';
  cost_usd: number;
  generation_ms: number;
  storage_key: string;
  image_url: string;
  content_type: string;
  provider_request_id: string | null;
  warnings: string;
  created_at: string | Date;
  parent_id: string | null;
  kind: GenerationKind | null;
}

/** A row as the record the service works with. */
export function recordFromRow(row: GenerationRow): GenerationRecord {
  return {
    id: row.id,
    userId: row.user_id,
    batchId: row.batch_id ?? undefined,
    source: row.source,
    prompt: row.prompt,
    promptUsed: row.prompt_used,
    negativePrompt: row.negative_prompt ?? undefined,
    style: row.style ?? undefined,
    model: row.model,
    seed: row.seed === null ? undefined : Number(row.seed),
    width: row.width,
    height: row.height,
    quality: row.quality,
    costUsd: row.cost_usd,
    generationMs: row.generation_ms,
    storageKey: row.storage_key,
    imageUrl: row.image_url,
    contentType: row.content_type,
    providerRequestId: row.provider_request_id ?? undefined,
    warnings: JSON.parse(row.warnings) as GenerationWarning[],
    createdAt: row.created_at instanceof Date ? row.created_at : new Date(row.created_at),
    parentId: row.parent_id ?? undefined,
    kind: row.kind ?? undefined,
  };
}

/** The `warnings` column: most images have none, and `[]` needs no serialising. */
export function warningsText(warnings: readonly GenerationWarning[]): string {
  return warnings.length === 0 ? '[]' : JSON.stringify(warnings);
}
