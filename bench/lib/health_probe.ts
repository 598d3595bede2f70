/**
 * A `/health` prober in a process of its own, so the latency it measures is the server's and not
 * the benchmark's (which is busy reading hundreds of streams). Probes `Deno.args[0]` one request
 * at a time, every 10 ms, until stdin closes; then prints the latencies (ms) as one JSON array.
 *
 * @module
 */

const url = `${Deno.args[0]}/health`;
const latencies: number[] = [];
let running = true;
const stopped = (async () => {
  for await (const _ of Deno.stdin.readable) {
    // nothing is sent; the stream ends when the benchmark closes it
  }
  running = false;
})();
while (running) {
  const started = performance.now();
  const response = await fetch(url);
  await response.body?.cancel();
  latencies.push(performance.now() - started);
  await new Promise((resolve) => setTimeout(resolve, 10));
}
await stopped;
console.log(JSON.stringify(latencies));
