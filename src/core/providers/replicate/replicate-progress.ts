/**
 * How far a prediction has got, read from its logs: many Replicate models print tqdm progress bars
 * (` 40%|████      | 2/5 [00:01<00:01,  2.1it/s]`). The last bar printed wins; undefined when the logs
 * show none, so a model that prints nothing reports nothing rather than a made-up figure.
 */
export function progressFromLogs(logs: string | null | undefined): number | undefined {
  if (!logs) return undefined;
  const bars = [...logs.matchAll(/(\d{1,3})%\|/g)];
  const last = bars.at(-1);
  if (last) {
    const percent = Number(last[1]);
    return percent >= 0 && percent <= 100 ? percent / 100 : undefined;
  }
  // Some models print bare step counters ("step 3/20") instead of a bar.
  const steps = [...logs.matchAll(/\b(\d+)\s*\/\s*(\d+)\b/g)].at(-1);
  if (!steps) return undefined;
  const done = Number(steps[1]);
  const total = Number(steps[2]);
  return total > 0 && done <= total ? done / total : undefined;
}
