/** `.env.example` is how operators learn the variables: every one the schema reads must be in it. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { environmentSchema } from './environment-schema.ts';

describe('.env.example', () => {
  it('documents every variable the service reads, and no other', () => {
    const text = fs.readFileSync(path.resolve(import.meta.dirname, '../../.env.example'), 'utf8');
    const documented = [...text.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((match) => match[1]).sort();
    expect(documented).toEqual(Object.keys(environmentSchema.shape).sort());
  });
});
