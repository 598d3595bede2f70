/// <reference lib="dom" />
/**
 * A minimal MCP Apps host for tests: renders a view's HTML in an iframe and speaks the
 * extension's postMessage protocol to it through ext-apps' `AppBridge`. Tool calls of the view
 * go to `window.hostCallTool` (which the test wires to a real MCP client); the tool input and
 * result given to `startHost` are sent once the view has initialized.
 */

import { AppBridge, PostMessageTransport } from "@modelcontextprotocol/ext-apps/app-bridge";

/** What the test page gives and takes. */
interface HostGlobals {
  hostCallTool(params: unknown): Promise<unknown>;
  startHost(html: string, input: Record<string, unknown>, result: unknown): Promise<void>;
}
const page = globalThis as unknown as HostGlobals;

page.startHost = async (html, input, result) => {
  const frame = document.createElement("iframe");
  frame.id = "view";
  frame.style.cssText = "width:100%;height:760px;border:1px solid #ccc;border-radius:8px";
  frame.srcdoc = html;
  document.body.append(frame);
  const bridge = new AppBridge(
    null,
    { name: "test-host", version: "1.0.0" },
    { serverTools: {}, openLinks: {} },
    { hostContext: { theme: "dark", displayMode: "inline" } },
  );
  // deno-lint-ignore no-explicit-any
  bridge.oncalltool = (params) => page.hostCallTool(params) as any;
  bridge.oninitialized = () => {
    void bridge.sendToolInput({ arguments: input });
    // deno-lint-ignore no-explicit-any
    void bridge.sendToolResult(result as any);
  };
  await bridge.connect(new PostMessageTransport(frame.contentWindow!, frame.contentWindow!));
};
