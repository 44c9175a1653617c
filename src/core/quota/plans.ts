/** Which models a plan may use: every model, only the standard (non-premium) ones, or a named list. */
export type PlanModelAccess = '*' | 'standard' | readonly string[];

/** A plan: how many images a month (and, optionally, a day), and which models. */
export interface PlanDefinition {
  name: string;
  monthlyImages: number;
  /** Images per calendar day (UTC) on top of the monthly allowance; undefined when there is no daily cap. */
  dailyImages: number | undefined;
  models: PlanModelAccess;
}

/** What PLAN_LIMITS says of one plan: `pro=200` (monthly) or `pro=200/month+20/day`. */
export interface PlanAllowance {
  /** Left out (`pro=20/day`): the plan's default monthly allowance stays. */
  monthly: number | undefined;
  daily: number | undefined;
}

/** The plans and which one applies when nothing says otherwise. */
export interface PlanCatalog {
  defaultPlan: string;
  /** The plan of chat users who have not linked an app account. */
  guestPlan: string;
  plans: Readonly<Record<string, PlanDefinition>>;
}

/** The mobile app's contract's defaults: free 5, pro 200, enterprise 2000 (the only plan with premium models), guest 3. */
export const defaultPlanLimits: Readonly<Record<string, number>> = {
  free: 5,
  pro: 200,
  enterprise: 2000,
  guest: 3,
};

/** Builds the plan catalog from operator overrides on top of the contract's defaults. */
export function buildPlanCatalog(settings: {
  /** A number is a monthly allowance alone. */
  limits: Readonly<Record<string, number | PlanAllowance>>;
  models: Readonly<Record<string, '*' | readonly string[]>>;
  defaultPlan: string;
  guestMonthlyImages: number | undefined;
}): PlanCatalog {
  const allowances: Record<string, { monthly: number; daily: number | undefined }> = {};
  for (const [name, monthly] of Object.entries(defaultPlanLimits))
    allowances[name] = { monthly, daily: undefined };
  for (const [name, given] of Object.entries(settings.limits)) {
    const allowance: PlanAllowance = typeof given === 'number' ? { monthly: given, daily: undefined } : given;
    const monthly = allowance.monthly ?? defaultPlanLimits[name];
    if (monthly === undefined) {
      throw new Error(
        `PLAN_LIMITS gives plan "${name}" only a daily allowance; add its monthly one (${name}=N/month+M/day)`,
      );
    }
    allowances[name] = { monthly, daily: allowance.daily };
  }
  const guest = allowances.guest;
  if (settings.guestMonthlyImages !== undefined && guest) guest.monthly = settings.guestMonthlyImages;
  const plans: Record<string, PlanDefinition> = {};
  for (const [name, allowance] of Object.entries(allowances)) {
    plans[name] = {
      name,
      monthlyImages: allowance.monthly,
      dailyImages: allowance.daily,
      models: settings.models[name] ?? (name === 'enterprise' ? '*' : 'standard'),
    };
  }
  for (const name of Object.keys(settings.models)) {
    if (!plans[name]) throw new Error(`PLAN_MODELS names plan "${name}", which PLAN_LIMITS does not define`);
  }
  if (!plans[settings.defaultPlan]) {
    throw new Error(`DEFAULT_PLAN "${settings.defaultPlan}" is not one of: ${Object.keys(plans).join(', ')}`);
  }
  return { defaultPlan: settings.defaultPlan, guestPlan: 'guest', plans };
}

/** The plan by name; unknown names (a stale claim, a removed plan) fall back to the default plan. */
export function resolvePlan(catalog: PlanCatalog, name: string | undefined): PlanDefinition {
  const plan = (name && catalog.plans[name]) || catalog.plans[catalog.defaultPlan];
  if (!plan) throw new Error(`default plan "${catalog.defaultPlan}" is missing from the catalog`);
  return plan;
}

/**
 * Whether `candidate` is a better plan than `current`: more images a month, then a looser day (no daily cap
 * beats any), then wider model access. What "best plan wins" means when roles or groups grant plans.
 */
export function isBetterPlan(candidate: PlanDefinition, current: PlanDefinition): boolean {
  if (candidate.monthlyImages !== current.monthlyImages)
    return candidate.monthlyImages > current.monthlyImages;
  const candidateDaily = candidate.dailyImages ?? Number.POSITIVE_INFINITY;
  const currentDaily = current.dailyImages ?? Number.POSITIVE_INFINITY;
  if (candidateDaily !== currentDaily) return candidateDaily > currentDaily;
  return modelBreadth(candidate.models) > modelBreadth(current.models);
}

function modelBreadth(models: PlanModelAccess): number {
  return models === '*' ? 2 : models === 'standard' ? 1 : 0;
}

/** Whether a plan may use a model; premium models (OpenAI's) need `*` or an explicit listing. */
export function planAllowsModel(plan: PlanDefinition, model: { id: string; premium: boolean }): boolean {
  if (plan.models === '*') return true;
  if (plan.models === 'standard') return !model.premium;
  return plan.models.includes(model.id);
}
