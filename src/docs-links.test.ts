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

/**
 * The anchors GitHub gives a document's headings: lowercased, punctuation dropped, spaces as hyphens, and a
 * repeated heading numbered (`-1`, `-2`, …).
 */
function headingAnchors(markdown: string): Set<string> {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, '');
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading = ''] of prose.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/<[^>]+>/g, '');
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M} _-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
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

  it.each(documents())('every #anchor in %s names a heading of the document it points at', (document) => {
    const text = fs.readFileSync(path.join(projectRoot, document), 'utf8');
    const broken = linkTargets(text)
      .filter((target) => target.includes('#') && (target.startsWith('#') || isRelative(target)))
      .filter((target) => {
        const [file = '', anchor = ''] = target.split('#');
        const linked = file === '' ? document : path.join(path.dirname(document), decodeURI(file));
        if (!linked.endsWith('.md')) return false;
        const absolute = path.resolve(projectRoot, linked);
        if (!fs.existsSync(absolute)) return true;
        return !headingAnchors(fs.readFileSync(absolute, 'utf8')).has(decodeURIComponent(anchor));
      });
    expect(broken).toEqual([]);
  });
});
