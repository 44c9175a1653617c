/** The README and docs/ are read on GitHub and in a clone: every relative link must reach a file in the repository. */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const projectRoot = path.resolve(import.meta.dirname, '..');

function documents(): string[] {
  const docs = path.join(projectRoot, 'docs');
  const inDocs = fs.existsSync(docs)
    ? fs
        .readdirSync(docs)
        .filter((name) => name.endsWith('.md'))
        .map((name) => path.join('docs', name))
    : [];
  return ['README.md', ...inDocs];
}

/** Link targets outside fenced code: inline `[text](target)` and reference `[label]: target`. */
function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '');
  const inline = [...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)].map((match) => match[1]);
  const reference = [...prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((match) => match[1]);
  return [...inline, ...reference].filter((target): target is string => target !== undefined);
}

function isRelative(target: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith('#') && !target.startsWith('//');
}

describe('documentation links', () => {
  it('finds the REST contract in the repository, linked from the README', () => {
    const readme = fs.readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
    expect(linkTargets(readme)).toContain('docs/api.md');
  });

  it.each(documents())('every relative link in %s points at a file in the repository', (document) => {
    const text = fs.readFileSync(path.join(projectRoot, document), 'utf8');
    const broken = linkTargets(text)
      .filter(isRelative)
      .filter((target) => {
        const file = path.resolve(projectRoot, path.dirname(document), decodeURI(target.split('#')[0] ?? ''));
        const inside = file === projectRoot || file.startsWith(projectRoot + path.sep);
        return !inside || !fs.existsSync(file);
      });
    expect(broken).toEqual([]);
  });
});
