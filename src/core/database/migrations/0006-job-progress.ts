/** How far a running job's work has got (0–1), for callers polling it. */
export const jobProgressSchema = `
ALTER TABLE jobs ADD COLUMN progress REAL;
`;
