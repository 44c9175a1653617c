/**
 * Where an image came from: the stored image it was made from (`parent_id`, a variation, remix or upscale
 * of it) and how (`kind`). Both null for text-to-image. No index: history reads a user's rows by id, and a
 * lineage is shown one record at a time.
 */
export const generationLineageSchema = `
ALTER TABLE generations ADD COLUMN parent_id TEXT;
ALTER TABLE generations ADD COLUMN kind TEXT CHECK (kind IN ('image_to_image', 'variation', 'remix', 'upscale'));
`;
