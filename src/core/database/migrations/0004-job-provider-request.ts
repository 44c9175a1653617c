/** The provider's id for a job's work (a Replicate prediction), so a recovered job follows it to its end. */
export const jobProviderRequestSchema = `
ALTER TABLE jobs ADD COLUMN provider_request_id TEXT;
`;
