import { maximumPromptLength } from '../generation/generation-request.ts';
import { cleanPromptText, hasVisibleCharacter } from '../generation/prompt-text.ts';

/** What a variation of someone's image is drawn toward when nothing describes it. */
export const fallbackUploadPrompt = 'a variation of this image';

// A camera's or a screenshot tool's name says nothing about what is in the picture.
const fileNamePattern =
  /\.(png|jpe?g|webp|gif|heic|heif|bmp|tiff?)$|^(img|dsc|pxl|screenshot|image)[\s_-]*\d/i;

/**
 * The prompt for varying an image someone shared: the first description with words in it (the message's
 * text, then the file's title) that is not a file name, clipped to the longest prompt; else a neutral one.
 */
export function uploadPrompt(descriptions: readonly (string | undefined)[]): string {
  for (const description of descriptions) {
    const text = cleanPromptText(description ?? '').trim();
    if (!text || !hasVisibleCharacter(text) || fileNamePattern.test(text)) continue;
    return text.length <= maximumPromptLength ? text : text.slice(0, maximumPromptLength).trimEnd();
  }
  return fallbackUploadPrompt;
}
