/**
 * The unfinished jobs in id order, for recovery's scan (every few seconds, from a watermark about 30 s back)
 * and its claim. Without it each scan stepped through every job row written since the watermark, finished
 * ones included: on a busy server, tens of thousands of rows to find the handful still open. Partial, so it
 * holds only queued and running jobs.
 */
export const jobsUnfinishedSchema = `
CREATE INDEX jobs_unfinished_by_id ON jobs (id) WHERE status IN ('queued', 'running');
`;
