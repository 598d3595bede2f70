/**
 * A minimal Server-Sent Events reader for fal's status streams: yields the `data` of each event
 * and skips comments (`: ping`).
 *
 * @module
 */

/**
 * Yields the data of each event of an SSE body, in order. `onChunk` is called for every chunk
 * read (a comment included). The body is read directly, without piping it through further
 * streams: each stream hop costs more than the parsing itself.
 */
export async function* readSseData(
  body: ReadableStream<Uint8Array>,
  onChunk?: () => void,
): AsyncGenerator<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let data: string[] = [];
  try {
    while (true) {
      const { value, done } = await reader.read();
      if (done) break;
      onChunk?.();
      buffer += decoder.decode(value, { stream: true });
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
