/**
 * The names `--model TASK=ENDPOINT` and `FAL_MCP_MODEL_<TASK>` accept: one per task tool, plus
 * `generate_video_from_image` (the model `generate_video` uses when it is given a start image).
 * Each task tool's `defaultModel` uses one of these keys (a test checks the two agree).
 *
 * @module
 */

/** Every task name a default model can be configured for. */
export const TASK_MODEL_KEYS: readonly string[] = [
  "generate_image",
  "edit_image",
  "upscale_image",
  "remove_background",
  "generate_video",
  "generate_video_from_image",
  "generate_music",
  "text_to_speech",
  "transcribe_audio",
];
