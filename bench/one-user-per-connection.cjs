// autocannon's setupClient (a file, so it also works when the load generator runs in a worker thread):
// each connection is its own app user, with an API key the benchmark made for it, handed over in
// IMAGINE_BENCH_KEYS (a worker thread starts with a copy of the environment). Read per connection: a run
// in the benchmark's own thread sees the keys of the service it is loading now, not the first one's.
let next = 0;

module.exports = function oneUserPerConnection(client) {
  const keys = JSON.parse(process.env.IMAGINE_BENCH_KEYS || '[]');
  const key = keys[next++ % keys.length];
  client.setHeaders({ 'content-type': 'application/json', authorization: `Bearer ${key}` });
};
