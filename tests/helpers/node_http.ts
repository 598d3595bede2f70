/**
 * A POST through `node:http`, whose socket really closes when the test drops it — the way a
 * client that goes away looks to the server. (Deno's own fetch may keep the connection open
 * after its body is cancelled.)
 *
 * @module
 */

import { request as httpRequest } from "node:http";
import { Readable } from "node:stream";

/** A response whose connection the test can cut. */
export interface CuttableResponse {
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: Record<string, string | string[] | undefined>;
  /** The body as a web stream. */
  body: ReadableStream<Uint8Array>;
  /** Closes the socket. */
  cut(): void;
}

/** POSTs `body` and resolves once the response head arrived. */
export function postCuttable(
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<CuttableResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: "POST", headers, agent: false }, (res) => {
      resolve({
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: Readable.toWeb(res) as ReadableStream<Uint8Array>,
        cut: () => {
          res.destroy();
          req.destroy();
        },
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}
