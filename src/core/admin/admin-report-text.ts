import { scopeSubject, userSubject } from '../quota/quota-accounting.ts';

/** How every user's quota counters start (`user:<id>`). */
export const userSubjectPrefix = userSubject('');
/** How every shared cap's counters start (`scope:<key>`). */
export const scopeSubjectPrefix = scopeSubject('');

/** A LIKE pattern (escape character `\`) matching any text that contains `text`. */
export function likePatternContaining(text: string): string {
  return `%${text.replace(/[%_\\]/g, (character) => `\\${character}`)}%`;
}

/** `text` with ASCII letters lowercased and nothing else changed: how SQLite's LIKE folds case. */
export function asciiLowercase(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}
