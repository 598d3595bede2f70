/**
 * The stdio wire: newline-delimited JSON-RPC on this process's stdin/stdout, with a cap on one
 * line. The SDK's own stdio transport closes the whole connection when its buffer passes 10 MB;
 * here a line over the cap is skipped up to its newline (never held in memory), answered with a
 * JSON-RPC error (carrying the request id when it can be read from the line's start), and the
 * next line is served as usual. A line that is not JSON gets a parse error; a trailing `\r` is
 * stripped.
 *
 * @module
 */

import process from "node:process";
import {
  type JSONRPCMessage,
  parseJSONRPCMessage,
  type Transport,
} from "@modelcontextprotocol/server";
import { JsonRpcCode } from "../errors.ts";
import type { JsonRpcId } from "../protocol/jsonrpc_error.ts";
import type { StdioWireHooks } from "./stdio_task_listen.ts";

/** Default cap on one line (10 MiB, as the SDK's buffer). */
export const DEFAULT_MAX_LINE_BYTES = 10 * 1024 * 1024;

const NEWLINE = 0x0a;
const decoder = new TextDecoder();
const ID_AT_START = /"id"\s*:\s*("(?:[^"\\]|\\.){0,200}"|-?\d{1,20})/;

/** Best effort: the id of a request from the first bytes of its line. */
function idFromPrefix(prefix: Uint8Array): JsonRpcId {
  const match = ID_AT_START.exec(decoder.decode(prefix.subarray(0, 4096)));
  if (!match?.[1]) return null;
  try {
    const id = JSON.parse(match[1]);
    return typeof id === "string" || typeof id === "number" ? id : null;
  } catch {
    return null;
  }
}

/** Options for {@linkcode LineCappedStdioTransport}. */
export interface LineCappedStdioOptions {
  /** Largest line in bytes. Default 10 MiB. */
  maxLineBytes?: number;
  /** Called for each line refused (too long or not JSON), after its error is sent. */
  onRefused?: (reason: string) => void;
  /** Sees every message both ways first (the task subscriptions of the connection). */
  hooks?: StdioWireHooks;
}

/** A stdio {@linkcode Transport} that survives oversized and malformed lines. */
export class LineCappedStdioTransport implements Transport {
  /** Called when the connection closes. */
  onclose?: () => void;
  /** Called on transport errors. */
  onerror?: (error: Error) => void;
  /** Called with each inbound message. */
  onmessage?: (message: JSONRPCMessage) => void;

  readonly #maxLineBytes: number;
  readonly #onRefused: ((reason: string) => void) | undefined;
  readonly #hooks: StdioWireHooks | undefined;
  #chunks: Uint8Array[] = [];
  #buffered = 0;
  /** Skipping the rest of an oversized line; the prefix kept to find its id. */
  #skipping: Uint8Array | undefined;
  #closed = false;

  /** Creates the transport (it reads nothing until `start()`). */
  constructor(options: LineCappedStdioOptions = {}) {
    this.#maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.#onRefused = options.onRefused;
    this.#hooks = options.hooks;
  }

  readonly #ondata = (chunk: Uint8Array | string): void => {
    const bytes = typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk;
    try {
      this.#take(bytes);
    } catch (error) {
      this.onerror?.(error instanceof Error ? error : new Error(String(error)));
    }
  };
  readonly #onend = (): void => {
    void this.close();
  };
  readonly #onerror = (error: Error): void => {
    this.onerror?.(error);
  };

  /** Starts reading stdin. */
  start(): Promise<void> {
    process.stdin.on("data", this.#ondata);
    process.stdin.on("end", this.#onend);
    process.stdin.on("close", this.#onend);
    process.stdin.on("error", this.#onerror);
    return Promise.resolve();
  }

  #take(bytes: Uint8Array): void {
    let start = 0;
    while (start < bytes.length) {
      const newline = bytes.indexOf(NEWLINE, start);
      const end = newline < 0 ? bytes.length : newline;
      const piece = bytes.subarray(start, end);
      if (this.#skipping) {
        if (newline >= 0) this.#refuseLong();
      } else if (this.#buffered + piece.length > this.#maxLineBytes) {
        const prefix = this.#join(piece).subarray(0, 4096);
        this.#chunks = [];
        this.#buffered = 0;
        this.#skipping = prefix.slice();
        if (newline >= 0) this.#refuseLong();
      } else if (newline < 0) {
        this.#chunks.push(piece.slice());
        this.#buffered += piece.length;
      } else {
        const line = this.#join(piece);
        this.#chunks = [];
        this.#buffered = 0;
        this.#line(line);
      }
      if (newline < 0) break;
      start = newline + 1;
    }
  }

  #join(last: Uint8Array): Uint8Array {
    if (this.#chunks.length === 0) return last;
    const out = new Uint8Array(this.#buffered + last.length);
    let at = 0;
    for (const chunk of this.#chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    out.set(last, at);
    return out;
  }

  #refuseLong(): void {
    const id = idFromPrefix(this.#skipping ?? new Uint8Array());
    this.#skipping = undefined;
    const reason = `a line over ${this.#maxLineBytes} bytes was skipped`;
    void this.#sendError(
      id,
      JsonRpcCode.InvalidRequest,
      `Invalid Request: the message is over the ${this.#maxLineBytes}-byte line limit and was ` +
        "not read; send smaller messages (upload large files with upload_file instead of inline)",
    );
    this.#onRefused?.(reason);
  }

  #line(raw: Uint8Array): void {
    let text = decoder.decode(raw);
    if (text.endsWith("\r")) text = text.slice(0, -1);
    if (text.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      void this.#sendError(
        null,
        JsonRpcCode.ParseError,
        `Parse error: the line is not valid JSON (${(error as Error).message})`,
      );
      this.#onRefused?.("a line that is not JSON");
      return;
    }
    let message: JSONRPCMessage;
    try {
      message = parseJSONRPCMessage(value);
    } catch {
      const id = (value as { id?: unknown } | null)?.id;
      void this.#sendError(
        typeof id === "string" || typeof id === "number" ? id : null,
        JsonRpcCode.InvalidRequest,
        "Invalid Request: the line is not a JSON-RPC 2.0 request, notification or response",
      );
      this.#onRefused?.("a line that is not JSON-RPC");
      return;
    }
    const reply = this.#hooks?.inbound(message);
    if (reply) {
      void this.#write(reply).catch((error) => this.onerror?.(error as Error));
      return;
    }
    this.onmessage?.(message);
  }

  #sendError(id: JsonRpcId, code: number, message: string): Promise<void> {
    return this.#write({ jsonrpc: "2.0", id, error: { code, message } }).catch((error) =>
      this.onerror?.(error as Error)
    );
  }

  #write(message: unknown): Promise<void> {
    if (this.#closed) return Promise.reject(new Error("stdio transport is closed"));
    const json = JSON.stringify(message) + "\n";
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => {
        process.stdout.off("drain", onDrain);
        reject(error);
      };
      const onDrain = () => {
        process.stdout.off("error", onError);
        resolve();
      };
      process.stdout.once("error", onError);
      if (process.stdout.write(json)) {
        process.stdout.off("error", onError);
        resolve();
      } else process.stdout.once("drain", onDrain);
    });
  }

  /** Writes one message as a line on stdout. */
  send(message: JSONRPCMessage): Promise<void> {
    if (!this.#hooks) return this.#write(message);
    return this.#hooks.outbound(message, (m) => this.#write(m));
  }

  /** Stops reading and fires `onclose` once. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    process.stdin.off("data", this.#ondata);
    process.stdin.off("end", this.#onend);
    process.stdin.off("close", this.#onend);
    process.stdin.off("error", this.#onerror);
    if (process.stdin.listenerCount("data") === 0) process.stdin.pause();
    this.#chunks = [];
    this.#hooks?.closed();
    this.onclose?.();
    return Promise.resolve();
  }
}
