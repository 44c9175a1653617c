import { isoTimestamp } from '../../database/iso-timestamp.ts';
import { namedStatement, runNamed, StatementCache } from '../../database/postgres/named-statement.ts';
import type { Queryable } from '../../database/postgres/queryable.ts';
import {
  budgetExhausted,
  budgetSubject,
  dailyLimitReached,
  type HeldCounters,
  joinImageIds,
  monthlyLimitReached,
  type ReservationRequest,
  scopeLimitReached,
  scopeSubject,
  usdEpsilon,
  userSubject,
} from '../quota-accounting.ts';
import { type CounterRow, heldOrUsedOf } from '../quota-rows.ts';
import type { Charge, SettledHold } from '../quota-store.ts';

// The ledger's hold and settle, each as ONE statement of chained CTEs, so a request's quota writes cost a
// round trip each and can share that statement with the writes that commit with them (a job row, the
// records): the main thread's time on PostgreSQL goes mostly to the driver's per-statement work. Their
// texts are compiled once per shape (`named-statement.ts`), not rebuilt from fragments per call.

/** What the hold statement answers: which guarded upserts held, and the new hold's id when all did. */
export interface HoldRow {
  /** The status a job row written by the statement got (`holdStatement`'s `job`), else null. */
  status: 'running' | 'queued' | null;
  month: boolean;
  day: boolean;
  scope: boolean;
  budget: boolean;
  id: string | null;
}

/** A job row written ahead of the hold: a CTE named `job` answering its `status`, and its values. */
export interface JobCte {
  /** The CTE's text, `{name}` placeholders (names apart from the hold's: `job_…`); one text per process. */
  text: string;
  values: Readonly<Record<string, unknown>>;
}

const holdStatements = new StatementCache();

/**
 * The hold as one statement: each limit's guarded upsert (`INSERT … ON CONFLICT DO UPDATE … WHERE used +
 * reserved + n <= limit`, which takes the counter row's lock and re-checks the guard against the latest
 * committed row) reads from the one before it, so a counter moves only when every earlier one held, and
 * the reservation row goes in only when the last did. Counters are taken in one order (user month, user
 * day, scope, budget). A refusal further down the chain leaves the earlier counters moved: the caller
 * runs the statement in a transaction that the refusal rolls back (`holdOutcome` throws it). With `job`,
 * nothing is held unless its row went in running.
 */
export function holdStatement(
  sql: Queryable,
  request: ReservationRequest,
  now: Date,
  job?: JobCte,
): Promise<HoldRow[]> {
  const { period, day } = holdPeriods(request, now);
  const daily = request.userDailyLimit !== undefined && day !== null;
  const scope = request.scope;
  const budget = request.budgetUsd;
  const shape = `${job ? 'j' : ''}${daily ? 'd' : ''}${scope ? 's' : ''}${budget === undefined ? '' : 'b'}`;
  const statement = holdStatements.get(shape, () =>
    holdText(job?.text, daily, scope !== undefined, budget !== undefined),
  );
  const values = {
    user: userSubject(request.userId),
    period,
    images: request.images,
    userLimit: request.userLimit,
    day,
    dailyLimit: request.userDailyLimit ?? null,
    scope: scope ? scopeSubject(scope.key) : null,
    scopeLimit: scope?.limit ?? null,
    budget: budgetSubject,
    usd: request.estimatedUsd,
    budgetCap: budget === undefined ? null : budget + usdEpsilon,
    userId: request.userId,
    scopeKey: scope?.key ?? null,
    heldUsd: budget === undefined ? 0 : request.estimatedUsd,
    createdAt: now,
    jobId: request.jobId ?? null,
    imageIds: joinImageIds(request.imageIds),
    tally: request.tally ?? null,
  };
  return job
    ? runNamed<HoldRow>(sql, statement, values, job.values)
    : runNamed<HoldRow>(sql, statement, values);
}

/** The hold statement's text for one shape (which limits it holds, and whether a job row goes first). */
function holdText(job: string | undefined, daily: boolean, scope: boolean, budget: boolean): string {
  const steps: string[] = job ? [job] : [];
  const answers: string[] = [job ? '(SELECT status FROM job) AS status' : 'NULL::text AS status'];
  let from = job ? "FROM job WHERE job.status = 'running' AND" : 'WHERE';
  const imageStep = (name: string, subject: string, counted: string, limit: string) => {
    // A lone fresh row is inserted unguarded (no conflict), so the hold must fit the limit on its own too.
    steps.push(`${name} AS (
      INSERT INTO quota_counters AS c (subject, period, reserved_images)
      SELECT {${subject}}::text, {${counted}}::text, {images}::int ${from} {images}::int <= {${limit}}::int
      ON CONFLICT (subject, period) DO UPDATE SET reserved_images = c.reserved_images + excluded.reserved_images
      WHERE c.used_images + c.reserved_images + excluded.reserved_images <= {${limit}}::int
      RETURNING 1
    )`);
    answers.push(`EXISTS (SELECT 1 FROM ${name}) AS ${name}`);
    from = `FROM ${name} WHERE`;
  };
  imageStep('month', 'user', 'period', 'userLimit');
  if (daily) imageStep('day', 'user', 'day', 'dailyLimit');
  else answers.push('true AS day');
  if (scope) imageStep('scope', 'scope', 'period', 'scopeLimit');
  else answers.push('true AS scope');
  if (budget) {
    steps.push(`budget AS (
      INSERT INTO quota_counters AS c (subject, period, reserved_usd)
      SELECT {budget}::text, {period}::text, {usd}::float8 ${from} {usd}::float8 <= {budgetCap}::float8
      ON CONFLICT (subject, period) DO UPDATE SET reserved_usd = c.reserved_usd + excluded.reserved_usd
      WHERE c.spent_usd + c.reserved_usd + excluded.reserved_usd <= {budgetCap}::float8
      RETURNING 1
    )`);
    answers.push('EXISTS (SELECT 1 FROM budget) AS budget');
    from = 'FROM budget WHERE';
  } else answers.push('true AS budget');
  steps.push(`held AS (
    INSERT INTO reservations
      (user_id, scope_key, period, day, images, estimated_usd, held_usd, created_at, job_id, image_ids, tally)
    SELECT {userId}::text, {scopeKey}::text, {period}::text, {day}::text, {images}::int, {usd}::float8,
      {heldUsd}::float8, {createdAt}::timestamptz, {jobId}::text, {imageIds}::text, {tally}::text
    ${from} true
    RETURNING id
  )`);
  return `WITH ${steps.join(',\n')}\nSELECT ${answers.join(', ')}, (SELECT id FROM held) AS id`;
}

/**
 * What a hold statement's row means: the hold (its id and month), `'job-queued'` when its job row went in
 * queued (nothing held), or the refusal of the first limit that did not hold, with its figures read
 * afresh on `sql` (the statement's own snapshot predates the rows its guard re-read).
 */
export async function holdOutcome(
  sql: Queryable,
  request: ReservationRequest,
  now: Date,
  row: HoldRow | undefined,
): Promise<{ id: number; period: string } | 'job-queued'> {
  if (!row) throw new Error('the hold statement answered no row');
  if (row.status === 'queued') return 'job-queued';
  const { period, day } = holdPeriods(request, now);
  if (row.id !== null) return { id: Number(row.id), period };
  const user = userSubject(request.userId);
  if (!row.month) {
    throw monthlyLimitReached(request.userLimit, await heldOrUsed(sql, user, period, request.userLimit));
  }
  const dailyLimit = request.userDailyLimit;
  if (!row.day && dailyLimit !== undefined && day !== null) {
    throw dailyLimitReached(dailyLimit, await heldOrUsed(sql, user, day, dailyLimit), now);
  }
  if (!row.scope && request.scope) {
    const scope = scopeSubject(request.scope.key);
    throw scopeLimitReached(request.scope.limit, await heldOrUsed(sql, scope, period, request.scope.limit));
  }
  if (!row.budget) throw budgetExhausted(now);
  throw new Error('the hold statement held every limit but wrote no reservation');
}

/** True when a hold moves only the user's month, so its statement cannot leave a partial hold behind. */
export function holdsMonthOnly(request: ReservationRequest): boolean {
  return (
    request.userDailyLimit === undefined && request.scope === undefined && request.budgetUsd === undefined
  );
}

/** What settling a hold answers: the month it belonged to (null when it was gone) and its counter after. */
export interface SettleRow {
  period: string | null;
  used_images: number | null;
  reserved_images: number | null;
}

/** The settle's steps after the user's month, each reading the deleted hold's row (`gone`). */
const settleSteps = {
  day: `day AS (
      UPDATE quota_counters AS c
      SET reserved_images = c.reserved_images - g.images, used_images = c.used_images + {images}::int
      FROM gone AS g WHERE g.day IS NOT NULL AND c.subject = {userPrefix}::text || g.user_id AND c.period = g.day
    )`,
  scope: `scope AS (
      UPDATE quota_counters AS c
      SET reserved_images = c.reserved_images - g.images, used_images = c.used_images + {images}::int
      FROM gone AS g
      WHERE g.scope_key IS NOT NULL AND c.subject = {scopePrefix}::text || g.scope_key AND c.period = g.period
    )`,
  tally: `tally AS (
      INSERT INTO quota_counters AS c (subject, period, used_images)
      SELECT g.tally, g.period, {images}::int FROM gone AS g WHERE g.tally IS NOT NULL AND {images}::int > 0
      ON CONFLICT (subject, period) DO UPDATE SET used_images = c.used_images + excluded.used_images
    )`,
  budget: `budget AS (
      INSERT INTO quota_counters AS c (subject, period, spent_usd)
      SELECT {budget}::text, g.period, {costUsd}::float8 FROM gone AS g
      WHERE {costUsd}::float8 <> 0 OR g.held_usd <> 0
      ON CONFLICT (subject, period) DO UPDATE SET
        reserved_usd = GREATEST(0, c.reserved_usd - (SELECT held_usd FROM gone)),
        spent_usd = c.spent_usd + excluded.spent_usd
    )`,
};

/**
 * The settle as CTEs of one statement (`{reservationId}`, `{images}`, `{costUsd}`; values from
 * `settleValues`): the hold's row is deleted (only when it holds at least what is charged), and every
 * counter it names is charged and given back the rest from that deleted row, so the removal and the
 * charges commit together, in autocommit too. `settleAnswers` reads the outcome. `steps` leaves out the
 * counters the hold did not move (`settleStepsFor`); each step also checks the row itself, so leaving one
 * in changes nothing but the statement's cost.
 */
export function settleCtesOf(steps: readonly SettleStep[] = allSettleSteps): string {
  return [
    `
    gone AS (
      DELETE FROM reservations WHERE id = {reservationId}::bigint AND images >= {images}::int
      RETURNING user_id, scope_key, period, images, held_usd, day, tally
    )`,
    `month AS (
      UPDATE quota_counters AS c
      SET reserved_images = c.reserved_images - g.images, used_images = c.used_images + {images}::int
      FROM gone AS g WHERE c.subject = {userPrefix}::text || g.user_id AND c.period = g.period
      RETURNING c.used_images, c.reserved_images
    )`,
    ...steps.map((step) => settleSteps[step]),
  ].join(',\n    ');
}

type SettleStep = keyof typeof settleSteps;
const allSettleSteps = Object.keys(settleSteps) as SettleStep[];

/** Every step: for a hold whose counters are not known. */
export const settleCtes = settleCtesOf();

/**
 * The steps besides the month that settling a hold which moved `moved` needs for `charge`: a free model's
 * charge on a hold that moved only the user's month is the month alone (four CTEs fewer, each a plan node
 * PostgreSQL sets up per statement). Unknown counters (`moved` absent) take every step. Answers the steps
 * and a key naming them.
 */
export function settleStepsFor(
  moved: HeldCounters | undefined,
  charge: Charge,
): { steps: SettleStep[]; key: string } {
  const steps: SettleStep[] = [];
  if (!moved) steps.push(...allSettleSteps);
  else {
    if (moved.day) steps.push('day');
    if (moved.scope) steps.push('scope');
    if (moved.tally && charge.images > 0) steps.push('tally');
    // Spending is counted without a budget too: a paid image always runs the budget's upsert.
    if (moved.budget || charge.costUsd !== 0) steps.push('budget');
  }
  return { steps, key: steps.map((step) => step[0]).join('') };
}

/** The values `settleCtes` names. */
export function settleValues(reservationId: number, charge: Charge): Record<string, unknown> {
  return {
    reservationId,
    images: charge.images,
    costUsd: charge.costUsd,
    userPrefix: userSubject(''),
    scopePrefix: scopeSubject(''),
    budget: budgetSubject,
  };
}

/** The columns a statement built on `settleCtes` answers as its `SettleRow` (one row, whatever happened). */
export const settleAnswers = `(SELECT period FROM gone) AS period, (SELECT used_images FROM month) AS used_images,
    (SELECT reserved_images FROM month) AS reserved_images`;

const settleStatement = namedStatement(`WITH ${settleCtes} SELECT ${settleAnswers}`);

/** Settles a hold in one statement (see `settleCtes`), answering its `SettleRow`. */
export async function settleHold(
  sql: Queryable,
  reservationId: number,
  charge: Charge,
): Promise<SettleRow | undefined> {
  const [row] = await runNamed<SettleRow>(sql, settleStatement, settleValues(reservationId, charge));
  return row;
}

/**
 * What a settle statement's row means: the month's standing after the charge, or undefined when the hold
 * was settled before; throws RangeError when it holds fewer images than charged (read afresh on `sql`).
 */
export async function settleOutcome(
  sql: Queryable,
  reservationId: number,
  charge: Charge,
  row: SettleRow | undefined,
): Promise<SettledHold | undefined> {
  if (row?.period)
    return { period: row.period, used: row.used_images ?? 0, reserved: row.reserved_images ?? 0 };
  const [existing] = await sql<
    { images: number }[]
  >`SELECT images FROM reservations WHERE id = ${reservationId}`;
  if (existing) throw new RangeError(`cannot charge ${charge.images} of ${existing.images} reserved images`);
  return undefined; // settled already
}

/** What counts against a limit now (charged plus held), for the error a refused hold reports. */
async function heldOrUsed(sql: Queryable, subject: string, period: string, limit: number): Promise<number> {
  const [row] = await sql<Pick<CounterRow, 'used_images' | 'reserved_images'>[]>`
    SELECT used_images, reserved_images FROM quota_counters WHERE subject = ${subject} AND period = ${period}`;
  return heldOrUsedOf(row, limit);
}

function holdPeriods(request: ReservationRequest, now: Date): { period: string; day: string | null } {
  const createdAt = isoTimestamp(now);
  return {
    period: createdAt.slice(0, 7),
    day: request.userDailyLimit === undefined ? null : createdAt.slice(0, 10),
  };
}
