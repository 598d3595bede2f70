/**
 * A minimal Server-Sent Events reader for fal's status streams: yields the `data` of each event
 * and skips comments (`: ping`).
 *
 * @module
 */

/** Yields the data of each event of an SSE body, in order. */
export async function* readSseData(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let data: string[] = [];
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let newline: number;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
        if (line === "") {
          if (data.length) yield data.join("\n");
          data = [];
        } else if (line.startsWith("data:")) {
          data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
        }
        // Comments (":…"), `event:`, `id:` and `retry:` lines carry nothing fal needs.
      }
    }
    if (data.length) yield data.join("\n");
  } finally {
    await reader.cancel().catch(() => {});
  }
}
