import type { StylePreset } from '../styles/style-presets.ts';

/** What the enhancer needs: the user's prompt, the chosen style and whether to add quality terms. */
export interface PromptEnhancementInput {
  prompt: string;
  style: StylePreset | undefined;
  /** `enhance_prompt`: add general quality terms on top of the style's own. */
  enhance: boolean;
  negativePrompt: string | undefined;
}

/** The exact text sent to the provider (`prompt_used`) and the negative prompt, if any. */
export interface EnhancedPrompt {
  promptUsed: string;
  negativePrompt: string | undefined;
}

// Quality terms come after the style's modifiers: the style is what the user chose, these only polish.
const qualityTerms = ['highly detailed', 'sharp focus', 'balanced composition', 'high resolution'];
const qualityNegativeTerms = ['low quality', 'blurry', 'watermark', 'jpeg artifacts'];

// Function words do not make a term redundant: "castle on a hill" still gets "black ink on white".
const functionWords = new Set(['a', 'an', 'and', 'at', 'in', 'no', 'of', 'on', 'or', 'the', 'to', 'with']);

/**
 * Builds the prompt sent to the provider. The style's modifiers are always added (the user asked for
 * the style); quality terms only when `enhance` is on. A term is skipped when any of its words is
 * already in the prompt or in a term added before it, so nothing is said twice. Pure and deterministic.
 */
export function enhancePrompt(input: PromptEnhancementInput): EnhancedPrompt {
  const prompt = input.prompt.trim();
  const seenWords = new Set<string>();
  addContentWords(prompt, seenWords);
  let added = '';
  if (input.style) added += newTerms(input.style.modifiers, seenWords);
  if (input.enhance) added += newTerms(qualityTerms, seenWords);
  const promptUsed = added === '' ? prompt : `${withoutTrailingPunctuation(prompt)}${added}`;
  return { promptUsed, negativePrompt: mergeNegativePrompts(input) };
}

/** `, term` for each term none of whose words was seen yet; the words of a term added count as seen. */
function newTerms(terms: readonly string[], seenWords: Set<string>): string {
  let added = '';
  for (const term of terms) {
    const words = termWords(term);
    if (words.some((word) => seenWords.has(word))) continue;
    for (const word of words) seenWords.add(word);
    added += `, ${term}`;
  }
  return added;
}

/** The user's negative prompt first (it matters most), then the style's, then quality negatives. */
function mergeNegativePrompts(input: PromptEnhancementInput): string | undefined {
  const ours = presetNegatives(input.style, input.enhance);
  if (!input.negativePrompt) return ours.text;
  return withoutRepeats([...splitPhrases(input.negativePrompt), ...ours.phrases]).text;
}

interface NegativePhrases {
  phrases: string[];
  /** The phrases joined; undefined when there are none. */
  text: string | undefined;
}

/** The phrases without repeats, ignoring case (the first one stays), and them joined. */
function withoutRepeats(phrases: readonly string[]): NegativePhrases {
  const seen = new Set<string>();
  const unique = phrases.filter((phrase) => {
    const key = phrase.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  return { phrases: unique, text: unique.length === 0 ? undefined : unique.join(', ') };
}

// A style's negatives and the quality negatives are fixed, so each combination is split and joined once.
const negativesByPreset = new Map<string, NegativePhrases>();
function presetNegatives(style: StylePreset | undefined, enhance: boolean): NegativePhrases {
  const key = `${style?.name ?? ''}\u0000${enhance}`;
  let negatives = negativesByPreset.get(key);
  if (!negatives) {
    negatives = withoutRepeats([
      ...splitPhrases(style?.negativePrompt),
      ...(enhance ? qualityNegativeTerms : []),
    ]);
    negativesByPreset.set(key, negatives);
  }
  return negatives;
}

function splitPhrases(text: string | undefined): string[] {
  if (!text) return [];
  return text
    .split(',')
    .map((phrase) => phrase.trim())
    .filter((phrase) => phrase.length > 0);
}

// Terms come from a fixed list, so their words are split once, not on every request.
const wordsOfTerm = new Map<string, string[]>();
function termWords(term: string): string[] {
  let words = wordsOfTerm.get(term);
  if (!words) {
    const found = new Set<string>();
    addContentWords(term, found);
    words = [...found];
    wordsOfTerm.set(term, words);
  }
  return words;
}

const betweenWords = /[^\p{L}\p{N}]+/u;

/**
 * Adds the text's words, lower-cased and without function words, with a plural `s` dropped so "colors"
 * matches "color". One split, not a match object per word: this runs on every prompt.
 */
function addContentWords(text: string, words: Set<string>): void {
  for (const word of text.toLowerCase().split(betweenWords)) {
    if (word === '' || functionWords.has(word)) continue;
    words.add(word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word);
  }
}

function withoutTrailingPunctuation(text: string): string {
  return text.replace(/[\s.,;:]+$/u, '');
}
