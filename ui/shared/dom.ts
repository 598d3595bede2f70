/// <reference lib="dom" />
/** Tiny DOM helpers shared by the studio and the MCP App view. */

/** Attributes and handlers of {@linkcode h}. */
export type Props = Record<string, string | number | boolean | EventListener | undefined>;

/** Creates an element with attributes (`on…` are listeners) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "value" && "value" in el) {
      (el as HTMLInputElement).value = String(value);
    } else if (key === "checked" && "checked" in el) {
      (el as HTMLInputElement).checked = Boolean(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return el;
}

/** Formats a cost such as `$0.025`. */
export function money(amount: number | undefined, currency = "USD"): string {
  if (amount === undefined) return "–";
  const symbol = currency === "USD" ? "$" : `${currency} `;
  return `${symbol}${amount < 0.01 && amount > 0 ? amount.toFixed(4) : amount.toFixed(3)}`;
}

/** Formats a duration in ms such as `2.4 s`. */
export function seconds(ms: number | undefined): string {
  return ms === undefined ? "–" : `${(ms / 1000).toFixed(1)} s`;
}
