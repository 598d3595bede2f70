/**
 * Reads SSE events off a response body one at a time, for tests that need to stop mid-stream.
 *
 * @module
 */

/** One parsed SSE event. */
export interface SseEvent {
  /** `id:` field, if any. */
  id?: string;
  /** `event:` field, if any. */
  event?: string;
  /** `retry:` field, if any. */
  retry?: number;
  /** Joined `data:` lines. */
  data: string;
}

/** Pulls SSE events from a stream; comments are skipped. */
export class SseReader {
  readonly #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  /** Wraps a response body. */
  constructor(body: ReadableStream<Uint8Array>) {
    this.#reader = body.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** The next event, or undefined when the stream ended. */
  async next(): Promise<SseEvent | undefined> {
    while (true) {
      const end = this.#buffer.indexOf("\n\n");
      if (end >= 0) {
        const block = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 2);
        const event: SseEvent = { data: "" };
        const data: string[] = [];
        let fields = 0;
        for (const line of block.split("\n")) {
          if (line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const name = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          fields++;
          if (name === "data") data.push(value);
          else if (name === "id") event.id = value;
          else if (name === "event") event.event = value;
          else if (name === "retry") event.retry = Number(value);
        }
        if (fields === 0) continue; // a comment-only block (keep-alive)
        event.data = data.join("\n");
        return event;
      }
      const { value, done } = await this.#reader.read();
      if (done) return undefined;
      this.#buffer += value;
    }
  }

  /** Stops reading and drops the connection. */
  async cancel(): Promise<void> {
    await this.#reader.cancel();
  }
}
