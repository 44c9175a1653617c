// autocannon's setupRequest for the self-hosted benchmark, a file because the load generator runs in a
// worker thread of its own (autocannon takes functions there by path). Each request names itself: in a
// header for imagine's side and in the prompt for the stand-in's, so the two timings of one request can be
// paired. The run's tag (IMAGINE_BENCH_RUN) keeps ids unique across runs; requests take the app users' API
// keys (IMAGINE_BENCH_KEYS) in turn. A worker starts with a copy of the environment and is new each run.
let keys;
let next = 0;

module.exports = function nameEachRequest(request) {
  keys ??= JSON.parse(process.env.IMAGINE_BENCH_KEYS || '[]');
  const sequence = next++;
  const id = `bench-${process.env.IMAGINE_BENCH_RUN || '0'}x${sequence}`;
  return {
    ...request,
    headers: {
      ...request.headers,
      authorization: `Bearer ${keys[sequence % keys.length]}`,
      'x-bench-request': id,
    },
    // The API benchmark's body (what the mobile app sends), the prompt carrying the id.
    body: JSON.stringify({
      prompt: `Flutter logo in office of pakistan ${id}`,
      size: '1024x1024',
      style: 'realistic',
      aspect_ratio: '1:1',
      enhance_prompt: true,
    }),
  };
};
