/**
 * What a prompt's text must be before it is stored or sent to a model. JSON may carry a lone surrogate
 * (`"\ud83e"`, often an emoji cut in half by the client), which SQLite would store as invalid UTF-8; the
 * same word typed on two keyboards may arrive composed or decomposed; and a prompt of zero-width
 * characters looks empty to everyone but `String.length`.
 */

const loneSurrogate = /\p{Cs}/gu;
// Whitespace, control and format characters (U+200B–U+200D, U+2060, U+FEFF among them) and every other
// default-ignorable one (Hangul fillers, variation selectors) render as nothing.
const visibleCharacter = /[^\p{White_Space}\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/u;

/** Well-formed (a lone surrogate becomes U+FFFD, as a UTF-8 encoder would write it), NFC, trimmed. */
export function cleanPromptText(text: string): string {
  return text.replace(loneSurrogate, '\uFFFD').normalize('NFC').trim();
}

/** Whether the text shows anything at all: one character that is not blank, control or zero-width. */
export function hasVisibleCharacter(text: string): boolean {
  return visibleCharacter.test(text);
}
