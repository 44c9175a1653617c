/** Which models a plan may use: every model, only the standard (non-premium) ones, or a named list. */
export type PlanModelAccess = '*' | 'standard' | readonly string[];

/** A plan: how many images a month, and which models. */
export interface PlanDefinition {
  name: string;
  monthlyImages: number;
  models: PlanModelAccess;
}

/** The plans and which one applies when nothing says otherwise. */
export interface PlanCatalog {
  defaultPlan: string;
  /** The plan of chat users who have not linked an app account. */
  guestPlan: string;
  plans: Readonly<Record<string, PlanDefinition>>;
}

/** CONTRACT.md's defaults: free 5, pro 200, enterprise 2000 (the only plan with premium models), guest 3. */
export const defaultPlanLimits: Readonly<Record<string, number>> = {
  free: 5,
  pro: 200,
  enterprise: 2000,
  guest: 3,
};

/** Builds the plan catalog from operator overrides on top of the contract's defaults. */
export function buildPlanCatalog(settings: {
  limits: Readonly<Record<string, number>>;
  models: Readonly<Record<string, '*' | readonly string[]>>;
  defaultPlan: string;
  guestMonthlyImages: number | undefined;
}): PlanCatalog {
  const limits: Record<string, number> = { ...defaultPlanLimits, ...settings.limits };
  if (settings.guestMonthlyImages !== undefined) limits.guest = settings.guestMonthlyImages;
  const plans: Record<string, PlanDefinition> = {};
  for (const [name, monthlyImages] of Object.entries(limits)) {
    plans[name] = {
      name,
      monthlyImages,
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

/** Whether a plan may use a model; premium models (OpenAI's) need `*` or an explicit listing. */
export function planAllowsModel(plan: PlanDefinition, model: { id: string; premium: boolean }): boolean {
  if (plan.models === '*') return true;
  if (plan.models === 'standard') return !model.premium;
  return plan.models.includes(model.id);
}
