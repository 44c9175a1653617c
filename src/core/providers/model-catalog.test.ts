/** The README's model table is what operators budget with: it must say exactly what the code charges. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ModelDescriptor } from './model-catalog.ts';
import { ProviderRegistry } from './provider-registry.ts';

const readme = fs.readFileSync(path.resolve(import.meta.dirname, '../../../README.md'), 'utf8');

function dollars(amount: number): string {
  return amount === 0 ? 'free' : `$${Number(amount.toFixed(4))}`;
}

/** The price cell as the README writes it, computed from the code. */
function priceCell(model: ModelDescriptor): string {
  const square = { width: 1024, height: 1024 };
  const wide = model.fixedSizes?.find((size) => size.width > size.height) ?? { width: 1344, height: 768 };
  const prices = [
    model.priceUsd(square, 'standard'),
    model.priceUsd(wide, 'standard'),
    model.priceUsd(square, 'high'),
    model.priceUsd(wide, 'high'),
  ];
  if (prices.every((price) => price === prices[0])) return dollars(prices[0] ?? 0);
  const [squareStandard = 0, wideStandard = 0, squareHigh = 0, wideHigh = 0] = prices;
  return `standard ${dollars(squareStandard)} square, ${dollars(wideStandard)} wide/tall; high ${dollars(squareHigh)}, ${dollars(wideHigh)}`;
}

function sizesCell(model: ModelDescriptor): string {
  return model.fixedSizes
    ? model.fixedSizes.map((size) => `${size.width}x${size.height}`).join(', ')
    : 'any aspect ratio';
}

describe('README model table', () => {
  it.each(new ProviderRegistry().builtInModels().map((model) => [model.id, model] as const))(
    'documents %s as the code prices it',
    (_id, model) => {
      const expected = `| \`${model.id}\` | ${model.provider} | \`${model.providerModel}\` | ${sizesCell(model)} | ${model.maxImagesPerCall} | ${priceCell(model)} | ${model.premium ? 'enterprise' : 'all'} |`;
      expect(readme).toContain(expected);
    },
  );
});
