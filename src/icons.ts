/**
 * Icons: one small PNG (32×32, data URI) for the server and one per kind of tool, so clients that
 * show icons can tell media, search, job and cost tools apart at a glance.
 *
 * @module
 */

import type { Icon } from "@modelcontextprotocol/server";

/** The kinds of icon. */
export type IconKind =
  | "server"
  | "image"
  | "video"
  | "audio"
  | "search"
  | "job"
  | "cost"
  | "upload";

const PNG: Record<IconKind, string> = {
  server:
    "iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAvElEQVR42u2X0Q2AIAxEGaJDuB9jsBJjdA1mQEjURAMopUBJbHJfhtwTSmmVWikANh2EQT6j+E1zm0KQLZjmFNdAq7khGD9lqObIYH4dTa25YzQ/5Wb8ed1OMJ05LSeObPeDBCmA7FWjRumKpgD8QACfqnBDAW4V8y3zOwHgp+1PAXAl47oADdv+A8gFwAlJiORCxASgyaWY9QpSHiMGAFv1HHcAAHkNiYiWTERTKqItFzGYiBjNRAynvWMHlHUKwG4UuTUAAAAASUVORK5CYII=",
  image:
    "iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAwklEQVR42tVXwQ3AIAh0CKfpWn67gSs5hms4g9Wk7aNRAxQUSe5l8E4FBGN2svNIriAW5A7qmuMmtQVhQNpD9bF/yT2B+AtPJY8M5O/TYMkTI/mDtOLkuJtgenNaTNzRnifBtgSEiQJCS0DXgWqjPVsVbigAe0qAjwNHvpCACLp+QQF5XwGQQBMTAI12EQGYlGMXgM17rIDIVYioaeg4KyG6EC0vxVo+o7Xf8fKGREVLpqIpVdGWqxhMVIxmKoZTabsAbE8GC4/Dpa4AAAAASUVORK5CYII=",
  video:
    "iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAt0lEQVR42t1X2w3AIAh0CGdwQcdwJcfwsys4g9Wk9qNB6wOF9pL7ashdBRGE+BIOpXSkiwwFpm8aW1RG2opoiSlGzoqbAeEnzai4QxC/U9Mr7hHFMz3Fn/edBFLOx2riqvawiRIyYDcasJCB18AMDBNQh2s2gGRCd1c+BJQb0RpUw1QaMAyMGFlioMfIPw2QpWC2CMmvIW0jIm/FXB4j2ueYfCBhMZKxGEpZjOUsFhMWqxmL5XQ1Tg08rEGoSH3NAAAAAElFTkSuQmCC",
  audio:
    "iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAuElEQVR42u2XwQ2AIAxFvbhBl/TMGN6dxjFYgxkQEzXGoMK34DexyT8Z85+0xbZpvhTt0JkgG+RPND8z2qYSNF6Ynml+R56a94DxUT1qbhXMt9TkmjtF81XujS/POwmlnGM1sVS7rySJASS32j5AgDEG4CsC+NgNBwOAQAaufCUAm3z8d4ZoSooBpAL9AD9AchsW6gLLcxE9vYoRAMqfkVQEEL6BhGIkoxhKKcZyisWEYjWjWE5LxwReZJ2BrkuxMwAAAABJRU5ErkJggg==",
  search:
    "iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAA2klEQVR42u1X2w2DMAxkiKzAZB0hY2SljJEtUGagQaKVCnn4cVBXqqX7QskdtuPHNP2SzY/FF6SCtYHtm0eTuoLYIW1hO+O05EFAfESQkicA+Ts0XPIMJH8hq/+8ZTBPtGJONVVO7NkuJmeKcDUBcURODQ3lidYEdC8eXcr1Qq3CqS4UnPHdzL9BQIK5Xx2GvwCTAq5+hmwB4EJ0EsBuQIBynLqF6AYRfliKJe2YKoLUjKQgiIjkdqwVQW7HwCH0QwR7SAUPo7Lh9KtDqYmx3MRiYmI1M7GcXm1PKrDKPOlS/p8AAAAASUVORK5CYII=",
  job:
    "iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAyElEQVR42t1X0RGAIAhtiHZqgobomzFcqTFcoxlK76qPThEET4y795PmeyoITNNItqwbBPiAM4M4Btqkc8COkOYQ/5ml5K6C+AtXS+4VyN+r4ZIfiuQPDrWd50x8EqU7p1qVT9zeTiKWzktGRy7UsAVL3xERe0oAuivNsYjUC8deRDgORc9vLMCjx0/xaOmc/wjAwu/fAigYRoBvIYIThtBBAIifYkmIqiQjSnRwklHfdNy9IDFRkpkoSk2U5SYaExOtmYnmtLVdDgjDY5KFAtEAAAAASUVORK5CYII=",
  cost:
    "iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAuklEQVR42tVXwQ2AIAz04Qhuyha6khP47hrOUDEREwwqlGqPJvcyeofXlrbrWopl7J0HefAN9mdOm3TwmB9I77C/M9SSTwLiKyYpOSmQn9aUkq+K5AGrxcnL/kSp5yFUcuLIdv5BACerQ1JqFQLmlIBswrfI+Vaqw/0qIOqYuZl/JaiwIK4IqeeVArhdAUo50KAAbUugBJCBAMJpROatGOUysr2OzQcSiJEMYiiFGMshFhOI1QxiOf06NvGbTV6DadE9AAAAAElFTkSuQmCC",
  upload:
    "iVBORw0KGgoAAAANSUhEUgAAACAAAAAgCAYAAABzenr0AAAAwElEQVR42u2XwQ2AIAxFOToAmzIGJ1fxzBis4QwKiXgwgOn3qzWxyT8Z85/S0taYL8UwTi4pJi0N5WeObWqTQse0pfyOvWruAeOjPGoeCeb70UjNZ6J50fzGl8v+BOnMsZzYsn15SLYGIC61EkiJ1gAgcxSidsPB5iCEgzL/LKCKYJlLIUQA0qADsJPwB1AHEF8AiPBFRAJweq5ipBldBAiidoyGqB33BhIygNc7kqkYSlWM5SoWExWrmYrl9O5YAc/WNtYpcU4XAAAAAElFTkSuQmCC",
};

/** The icon of a kind, as the protocol's `icons` list. */
export function icons(kind: IconKind): Icon[] {
  return [{ src: `data:image/png;base64,${PNG[kind]}`, mimeType: "image/png", sizes: ["32x32"] }];
}

const TOOL_KINDS: Record<string, IconKind> = {
  generate_image: "image",
  edit_image: "image",
  remove_background: "image",
  upscale_image: "image",
  generate_video: "video",
  generate_music: "audio",
  text_to_speech: "audio",
  transcribe_audio: "audio",
  search_models: "search",
  recommend_model: "search",
  get_model_schema: "search",
  run_model: "job",
  submit_job: "job",
  get_job: "job",
  cancel_job: "job",
  list_jobs: "job",
  get_pricing: "cost",
  estimate_cost: "cost",
  get_usage: "cost",
  upload_file: "upload",
};

/** The icons of a tool (the server's for a tool without a kind of its own). */
export function toolIcons(name: string): Icon[] {
  return icons(TOOL_KINDS[name] ?? "server");
}
