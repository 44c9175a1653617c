/**
 * The ids a quota hold's images will be recorded under, fixed before any is stored. A hold that outlives
 * its process was never charged, so none of its images was recorded: recovery removes whatever was stored
 * under these ids in the instant before the crash, and storage keeps no image without its record.
 */
export const reservationImageIdsSchema = `
ALTER TABLE reservations ADD COLUMN image_ids TEXT;
`;
