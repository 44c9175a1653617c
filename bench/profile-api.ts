import { measureImagineApi } from './api-benchmark.ts';

console.log(JSON.stringify(await measureImagineApi(5, 'own-thread')));
