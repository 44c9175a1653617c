/**
 * The build's second step (`npm run build` runs it as `node dist/copy-static-assets.js`): copies what the
 * service serves besides JavaScript (the console's pages, styles and scripts) from src/ to beside the
 * compiled code, wherever that was written.
 */
import fs from 'node:fs';
import path from 'node:path';

const source = path.resolve(process.cwd(), 'src/http/console');
const target = path.join(import.meta.dirname, 'http/console');
fs.cpSync(source, target, { recursive: true, filter: (file) => !file.endsWith('.ts') });
