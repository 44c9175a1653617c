/**
 * The running jobs of each user, for `MAX_JOBS_PER_USER` counted across every process: a start counts them
 * in the statement that starts it. Partial, so it holds only jobs running now (a handful of rows however
 * long the history grows), and a job costs two small index writes: when it starts and when it ends.
 */
export const jobsRunningSchema = `
CREATE INDEX jobs_running_by_user ON jobs (user_id) WHERE status = 'running';
`;
