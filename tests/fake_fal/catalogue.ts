/**
 * The fake fal model catalogue: metadata in the shape of fal's `GET /v1/models`, an OpenAPI 3.0
 * document per endpoint like fal's `expand=openapi-3.0`, and unit pricing for the platform API.
 *
 * @module
 */

/** A JSON Schema object as it appears in fal's OpenAPI 3.0 documents (the subset we use). */
export interface JsonSchema {
  /** JSON type. */
  type?: "string" | "integer" | "number" | "boolean" | "array" | "object";
  /** Human title. */
  title?: string;
  /** Human description. */
  description?: string;
  /** Default value. */
  default?: unknown;
  /** Example values. */
  examples?: unknown[];
  /** Allowed values. */
  enum?: readonly (string | number)[];
  /** Value must match at least one of these. */
  anyOf?: JsonSchema[];
  /** Value must match all of these. */
  allOf?: JsonSchema[];
  /** Reference to `#/components/schemas/<Name>`. */
  $ref?: string;
  /** Object properties. */
  properties?: Record<string, JsonSchema>;
  /** Required object properties. */
  required?: string[];
  /** Whether properties beyond `properties` are allowed. */
  additionalProperties?: boolean | JsonSchema;
  /** Array items. */
  items?: JsonSchema;
  /** Inclusive lower bound. */
  minimum?: number;
  /** Inclusive upper bound. */
  maximum?: number;
  /** Minimum string length. */
  minLength?: number;
  /** Maximum string length. */
  maxLength?: number;
  /** Minimum array length. */
  minItems?: number;
  /** Maximum array length. */
  maxItems?: number;
  /** Format hint (`uri`, `date-time`, …). */
  format?: string;
  /** OpenAPI 3.0: `null` is allowed. */
  nullable?: boolean;
  /** fal's property order hint for UIs. */
  "x-fal-order-properties"?: string[];
}

/** Model metadata exactly as fal's `/v1/models` returns it (`metadata` field). */
export interface ModelMetadata {
  /** Human name, e.g. `FLUX.1 [dev]`. */
  display_name: string;
  /** Category, e.g. `text-to-image`. */
  category: string;
  /** One-paragraph description. */
  description: string;
  /** `active` or `deprecated`. */
  status: "active" | "deprecated";
  /** Free-form tags. */
  tags: string[];
  /** Last update, ISO 8601. */
  updated_at: string;
  /** Whether the caller favourited the model. */
  is_favorited: boolean | null;
  /** Preview image URL. */
  thumbnail_url: string;
  /** Sync-run URL of the endpoint. */
  model_url: string;
  /** Licence class, e.g. `commercial`. */
  license_type: string;
  /** Publication date, ISO 8601. */
  date: string;
  /** Family the endpoint belongs to. */
  group?: { key: string; label: string };
  /** Featured on fal's gallery. */
  highlighted: boolean;
  /** `inference` or `training`. */
  kind: "inference" | "training";
  /** Pinned on fal's gallery. */
  pinned: boolean;
}

/** How the fake produces an output for a model. */
export type GeneratorKind =
  | "text-to-image"
  | "image-edit"
  | "background-removal"
  | "upscale"
  | "text-to-video"
  | "image-to-video"
  | "text-to-speech"
  | "music"
  | "speech-to-text";

/** Unit price of an endpoint as `GET /v1/models/pricing` reports it. */
export interface ModelPricing {
  /** Price of one unit. */
  unit_price: number;
  /** Billing unit, e.g. `image`, `second`. */
  unit: string;
  /** ISO currency code. */
  currency: "USD";
  /** Average units per call, used by `historical_api_price` estimates. */
  historical_units_per_call: number;
}

/** One endpoint of the fake catalogue. */
export interface CatalogueModel {
  /** Full endpoint id, e.g. `fal-ai/flux/dev`. */
  readonly endpointId: string;
  /** Metadata without the origin-dependent URLs (filled in by {@linkcode modelMetadata}). */
  readonly metadata: Omit<ModelMetadata, "thumbnail_url" | "model_url">;
  /** Output generator. */
  readonly generator: GeneratorKind;
  /** Name of the input schema in `schemas`. */
  readonly inputSchema: string;
  /** Name of the output schema in `schemas`. */
  readonly outputSchema: string;
  /** Endpoint-specific schemas; shared ones are added when a document is built. */
  readonly schemas: Readonly<Record<string, JsonSchema>>;
  /** Unit pricing. */
  readonly pricing: ModelPricing;
  /** When set, `expand=openapi-3.0` answers fal's `expansion_failed` error for this model. */
  readonly openapiExpansionFails?: boolean;
}

const ref = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });

/** Named sizes of fal image endpoints and their pixel sizes. */
export const IMAGE_SIZES: Readonly<Record<string, { width: number; height: number }>> = {
  square_hd: { width: 1024, height: 1024 },
  square: { width: 512, height: 512 },
  portrait_4_3: { width: 768, height: 1024 },
  portrait_16_9: { width: 576, height: 1024 },
  landscape_4_3: { width: 1024, height: 768 },
  landscape_16_9: { width: 1024, height: 576 },
};

/** Largest width or height the fake renders (its schemas enforce it). */
export const MAX_IMAGE_SIDE = 4096;

const SHARED_SCHEMAS: Readonly<Record<string, JsonSchema>> = {
  QueueStatus: {
    type: "object",
    title: "QueueStatus",
    properties: {
      status: { type: "string", enum: ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"] },
      request_id: { type: "string", description: "The request id." },
      response_url: { type: "string", description: "The response url." },
      status_url: { type: "string", description: "The status url." },
      cancel_url: { type: "string", description: "The cancel url." },
      logs: { type: "object", description: "The logs.", additionalProperties: true },
      metrics: { type: "object", description: "The metrics.", additionalProperties: true },
      queue_position: { type: "integer", description: "The queue position." },
    },
    required: ["status", "request_id"],
  },
  ImageSize: {
    type: "object",
    title: "ImageSize",
    properties: {
      width: {
        type: "integer",
        title: "Width",
        description: "The width of the generated image.",
        default: 512,
        minimum: 1,
        maximum: MAX_IMAGE_SIDE,
      },
      height: {
        type: "integer",
        title: "Height",
        description: "The height of the generated image.",
        default: 512,
        minimum: 1,
        maximum: MAX_IMAGE_SIDE,
      },
    },
    "x-fal-order-properties": ["width", "height"],
  },
  Image: {
    type: "object",
    title: "Image",
    description: "Represents an image file.",
    properties: {
      url: {
        type: "string",
        title: "Url",
        description: "The URL where the file can be downloaded from.",
      },
      content_type: {
        type: "string",
        title: "Content Type",
        description: "The mime type of the file.",
        examples: ["image/png"],
      },
      file_name: { type: "string", title: "File Name", description: "The name of the file." },
      file_size: {
        type: "integer",
        title: "File Size",
        description: "The size of the file in bytes.",
      },
      width: { type: "integer", title: "Width", description: "The width of the image in pixels." },
      height: {
        type: "integer",
        title: "Height",
        description: "The height of the image in pixels.",
      },
    },
    required: ["url"],
    "x-fal-order-properties": ["url", "content_type", "file_name", "file_size", "width", "height"],
  },
  File: {
    type: "object",
    title: "File",
    properties: {
      url: {
        type: "string",
        title: "Url",
        description: "The URL where the file can be downloaded from.",
      },
      content_type: {
        type: "string",
        title: "Content Type",
        description: "The mime type of the file.",
      },
      file_name: { type: "string", title: "File Name", description: "The name of the file." },
      file_size: {
        type: "integer",
        title: "File Size",
        description: "The size of the file in bytes.",
      },
    },
    required: ["url"],
    "x-fal-order-properties": ["url", "content_type", "file_name", "file_size"],
  },
  WhisperChunk: {
    type: "object",
    title: "WhisperChunk",
    properties: {
      timestamp: {
        type: "array",
        title: "Timestamp",
        description: "Start and end timestamp of the chunk, in seconds.",
        items: { type: "number" },
      },
      text: { type: "string", title: "Text", description: "Transcription of the chunk." },
      speaker: {
        type: "string",
        title: "Speaker",
        description: "Speaker of the chunk.",
        nullable: true,
      },
    },
    required: ["timestamp", "text"],
  },
  DiarizationSegment: {
    type: "object",
    title: "DiarizationSegment",
    properties: {
      timestamp: { type: "array", title: "Timestamp", items: { type: "number" } },
      speaker: { type: "string", title: "Speaker" },
    },
    required: ["timestamp", "speaker"],
  },
};

const imageSizeField = (fallback: string): JsonSchema => ({
  title: "Image Size",
  description: "The size of the generated image.",
  default: fallback,
  anyOf: [ref("ImageSize"), { type: "string", enum: Object.keys(IMAGE_SIZES) }],
});

const promptField = (example: string, maxLength?: number): JsonSchema => ({
  type: "string",
  title: "Prompt",
  description: "The prompt to generate from.",
  examples: [example],
  ...(maxLength === undefined ? {} : { maxLength }),
});

const seedField: JsonSchema = {
  type: "integer",
  title: "Seed",
  description: "The same seed and the same prompt given to the same version of the model will " +
    "output the same result every time.",
};

const syncModeField: JsonSchema = {
  type: "boolean",
  title: "Sync Mode",
  description: "If set to true, the media is returned as a data URI and is not stored in the " +
    "request history.",
  default: false,
};

const numImagesField: JsonSchema = {
  type: "integer",
  title: "Num Images",
  description: "The number of images to generate.",
  default: 1,
  minimum: 1,
  maximum: 4,
};

const safetyField: JsonSchema = {
  type: "boolean",
  title: "Enable Safety Checker",
  description: "If set to true, the safety checker will be enabled.",
  default: true,
};

const outputFormatField: JsonSchema = {
  type: "string",
  title: "Output Format",
  description: "The format of the generated image.",
  enum: ["jpeg", "png"],
  default: "jpeg",
};

const imageUrlField = (description: string): JsonSchema => ({
  type: "string",
  title: "Image Url",
  description,
  examples: ["https://storage.googleapis.com/falserverless/example_inputs/flux_kontext.png"],
});

const imagesOutput = (title: string): JsonSchema => ({
  type: "object",
  title,
  properties: {
    images: {
      type: "array",
      title: "Images",
      description: "The generated image files info.",
      items: ref("Image"),
    },
    timings: { type: "object", title: "Timings", additionalProperties: { type: "number" } },
    seed: { type: "integer", title: "Seed", description: "Seed of the generated image." },
    has_nsfw_concepts: {
      type: "array",
      title: "Has Nsfw Concepts",
      description: "Whether the generated images contain NSFW concepts.",
      items: { type: "boolean" },
    },
    prompt: { type: "string", title: "Prompt", description: "The prompt used for generating." },
  },
  required: ["images", "timings", "seed", "has_nsfw_concepts", "prompt"],
  "x-fal-order-properties": ["images", "timings", "seed", "has_nsfw_concepts", "prompt"],
});

/** The language codes fal's Whisper endpoints take (Whisper's own list). */
const WHISPER_LANGUAGES: readonly string[] = [
  "af",
  "am",
  "ar",
  "as",
  "az",
  "ba",
  "be",
  "bg",
  "bn",
  "bo",
  "br",
  "bs",
  "ca",
  "cs",
  "cy",
  "da",
  "de",
  "el",
  "en",
  "es",
  "et",
  "eu",
  "fa",
  "fi",
  "fo",
  "fr",
  "gl",
  "gu",
  "ha",
  "haw",
  "he",
  "hi",
  "hr",
  "ht",
  "hu",
  "hy",
  "id",
  "is",
  "it",
  "ja",
  "jw",
  "ka",
  "kk",
  "km",
  "kn",
  "ko",
  "la",
  "lb",
  "ln",
  "lo",
  "lt",
  "lv",
  "mg",
  "mi",
  "mk",
  "ml",
  "mn",
  "mr",
  "ms",
  "mt",
  "my",
  "ne",
  "nl",
  "nn",
  "no",
  "oc",
  "pa",
  "pl",
  "ps",
  "pt",
  "ro",
  "ru",
  "sa",
  "sd",
  "si",
  "sk",
  "sl",
  "sn",
  "so",
  "sq",
  "sr",
  "su",
  "sv",
  "sw",
  "ta",
  "te",
  "tg",
  "th",
  "tk",
  "tl",
  "tr",
  "tt",
  "uk",
  "ur",
  "uz",
  "vi",
  "yi",
  "yo",
  "yue",
  "zh",
];

const UPDATED = "2025-06-02T10:00:00.000Z";

/** Every endpoint the fake serves, in listing order. */
export const CATALOGUE: readonly CatalogueModel[] = [
  {
    endpointId: "fal-ai/flux/dev",
    generator: "text-to-image",
    metadata: {
      display_name: "FLUX.1 [dev]",
      category: "text-to-image",
      description: "FLUX.1 [dev] is a 12 billion parameter flow transformer that generates " +
        "high-quality images from text. It is suitable for personal and commercial use.",
      status: "active",
      tags: ["fast", "high-quality", "flux"],
      updated_at: UPDATED,
      is_favorited: false,
      license_type: "commercial",
      date: "2024-08-01T00:00:00.000Z",
      group: { key: "flux-1", label: "Text to Image [dev]" },
      highlighted: true,
      kind: "inference",
      pinned: false,
    },
    inputSchema: "FluxDevInput",
    outputSchema: "FluxDevOutput",
    schemas: {
      FluxDevInput: {
        type: "object",
        title: "BaseInput",
        properties: {
          prompt: promptField("Extreme close-up of a single tiger eye, direct frontal view."),
          image_size: imageSizeField("landscape_4_3"),
          num_inference_steps: {
            type: "integer",
            title: "Num Inference Steps",
            description: "The number of inference steps to perform.",
            default: 28,
            minimum: 1,
            maximum: 50,
          },
          seed: seedField,
          guidance_scale: {
            type: "number",
            title: "Guidance scale (CFG)",
            description: "How closely the model sticks to your prompt.",
            default: 3.5,
            minimum: 1,
            maximum: 20,
          },
          sync_mode: syncModeField,
          num_images: numImagesField,
          enable_safety_checker: safetyField,
          output_format: outputFormatField,
          acceleration: {
            type: "string",
            title: "Acceleration",
            description: "The speed of the generation. The higher the speed, the faster the " +
              "generation.",
            enum: ["none", "regular", "high"],
            default: "none",
          },
        },
        required: ["prompt"],
        "x-fal-order-properties": [
          "prompt",
          "image_size",
          "num_inference_steps",
          "seed",
          "guidance_scale",
          "sync_mode",
          "num_images",
          "enable_safety_checker",
          "output_format",
          "acceleration",
        ],
      },
      FluxDevOutput: imagesOutput("Output"),
    },
    pricing: { unit_price: 0.025, unit: "image", currency: "USD", historical_units_per_call: 1.5 },
  },
  {
    endpointId: "fal-ai/flux/schnell",
    generator: "text-to-image",
    metadata: {
      display_name: "FLUX.1 [schnell]",
      category: "text-to-image",
      description: "FLUX.1 [schnell] is a 12 billion parameter flow transformer that generates " +
        "high-quality images from text in 1 to 4 steps.",
      status: "active",
      tags: ["fast", "turbo", "flux"],
      updated_at: UPDATED,
      is_favorited: false,
      license_type: "commercial",
      date: "2024-08-01T00:00:00.000Z",
      group: { key: "flux-1", label: "Text to Image [schnell]" },
      highlighted: true,
      kind: "inference",
      pinned: false,
    },
    inputSchema: "FluxSchnellInput",
    outputSchema: "FluxSchnellOutput",
    schemas: {
      FluxSchnellInput: {
        type: "object",
        title: "SchnellTextToImageInput",
        properties: {
          prompt: promptField("A photo of a lighthouse at dusk, long exposure."),
          image_size: imageSizeField("landscape_4_3"),
          num_inference_steps: {
            type: "integer",
            title: "Num Inference Steps",
            description: "The number of inference steps to perform.",
            default: 4,
            minimum: 1,
            maximum: 12,
          },
          seed: seedField,
          sync_mode: syncModeField,
          num_images: numImagesField,
          enable_safety_checker: safetyField,
          output_format: outputFormatField,
          acceleration: {
            type: "string",
            title: "Acceleration",
            description: "The speed of the generation.",
            enum: ["none", "regular", "high"],
            default: "none",
          },
        },
        required: ["prompt"],
        "x-fal-order-properties": [
          "prompt",
          "image_size",
          "num_inference_steps",
          "seed",
          "sync_mode",
          "num_images",
          "enable_safety_checker",
          "output_format",
          "acceleration",
        ],
      },
      FluxSchnellOutput: imagesOutput("Output"),
    },
    pricing: { unit_price: 0.003, unit: "image", currency: "USD", historical_units_per_call: 1.2 },
  },
  {
    endpointId: "fal-ai/flux-pro/kontext",
    generator: "image-edit",
    metadata: {
      display_name: "FLUX.1 Kontext [pro]",
      category: "image-to-image",
      description: "FLUX.1 Kontext [pro] edits images from a text instruction: change objects, " +
        "styles, text and backgrounds while keeping the rest of the image intact.",
      status: "active",
      tags: ["editing", "image-to-image", "flux"],
      updated_at: UPDATED,
      is_favorited: false,
      license_type: "commercial",
      date: "2025-05-29T00:00:00.000Z",
      group: { key: "flux-kontext", label: "Kontext [pro]" },
      highlighted: true,
      kind: "inference",
      pinned: false,
    },
    inputSchema: "FluxProKontextInput",
    outputSchema: "FluxProKontextOutput",
    schemas: {
      FluxProKontextInput: {
        type: "object",
        title: "FluxKontextInput",
        properties: {
          prompt: promptField("Put a donut next to the flour."),
          image_url: imageUrlField("Image to edit."),
          seed: seedField,
          guidance_scale: {
            type: "number",
            title: "Guidance scale (CFG)",
            description: "How closely the model sticks to your prompt.",
            default: 3.5,
            minimum: 1,
            maximum: 20,
          },
          sync_mode: syncModeField,
          num_images: numImagesField,
          output_format: outputFormatField,
          safety_tolerance: {
            type: "string",
            title: "Safety Tolerance",
            description: "1 is the most strict and 6 the most permissive.",
            enum: ["1", "2", "3", "4", "5", "6"],
            default: "2",
          },
          enhance_prompt: {
            type: "boolean",
            title: "Enhance Prompt",
            description: "Whether to enhance the prompt for better results.",
            default: false,
          },
          aspect_ratio: {
            type: "string",
            title: "Aspect Ratio",
            description: "The aspect ratio of the generated image.",
            enum: ["21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"],
          },
        },
        required: ["prompt", "image_url"],
        "x-fal-order-properties": [
          "prompt",
          "image_url",
          "seed",
          "guidance_scale",
          "sync_mode",
          "num_images",
          "output_format",
          "safety_tolerance",
          "enhance_prompt",
          "aspect_ratio",
        ],
      },
      FluxProKontextOutput: imagesOutput("Output"),
    },
    pricing: { unit_price: 0.04, unit: "image", currency: "USD", historical_units_per_call: 1 },
  },
  {
    endpointId: "fal-ai/imageutils/rembg",
    generator: "background-removal",
    metadata: {
      display_name: "Remove Background",
      category: "image-to-image",
      description: "Remove the background from an image and get a transparent PNG of the subject.",
      status: "active",
      tags: ["background removal", "utility", "rembg"],
      updated_at: UPDATED,
      is_favorited: false,
      license_type: "commercial",
      date: "2024-03-12T00:00:00.000Z",
      highlighted: false,
      kind: "inference",
      pinned: false,
    },
    inputSchema: "RembgInput",
    outputSchema: "RembgOutput",
    schemas: {
      RembgInput: {
        type: "object",
        title: "RemoveBackgroundInput",
        properties: {
          image_url: imageUrlField("Input image url."),
          sync_mode: syncModeField,
          crop_to_bbox: {
            type: "boolean",
            title: "Crop To Bbox",
            description: "If set to true, the resulting image will be cropped to a bounding box " +
              "around the subject.",
            default: false,
          },
        },
        required: ["image_url"],
        "x-fal-order-properties": ["image_url", "sync_mode", "crop_to_bbox"],
      },
      RembgOutput: {
        type: "object",
        title: "RemoveBackgroundOutput",
        properties: { image: { ...ref("Image"), description: "Background removed image." } },
        required: ["image"],
      },
    },
    pricing: { unit_price: 0.001, unit: "image", currency: "USD", historical_units_per_call: 1 },
  },
  {
    endpointId: "fal-ai/clarity-upscaler",
    generator: "upscale",
    metadata: {
      display_name: "Clarity Upscaler",
      category: "image-to-image",
      description: "Clarity upscales images by up to 4x while adding high-fidelity detail.",
      status: "active",
      tags: ["upscaling", "high-res", "image-to-image"],
      updated_at: UPDATED,
      is_favorited: false,
      license_type: "commercial",
      date: "2024-06-20T00:00:00.000Z",
      highlighted: false,
      kind: "inference",
      pinned: false,
    },
    inputSchema: "ClarityUpscalerInput",
    outputSchema: "ClarityUpscalerOutput",
    schemas: {
      ClarityUpscalerInput: {
        type: "object",
        title: "Input",
        properties: {
          image_url: imageUrlField("The URL of the image to upscale."),
          prompt: {
            type: "string",
            title: "Prompt",
            description: "The prompt to use for generating the image.",
            default: "masterpiece, best quality, highres",
          },
          upscale_factor: {
            type: "number",
            title: "Upscale Factor",
            description: "The upscale factor.",
            default: 2,
            minimum: 1,
            maximum: 4,
          },
          negative_prompt: {
            type: "string",
            title: "Negative Prompt",
            description: "The negative prompt to use.",
            default: "(worst quality, low quality, normal quality:2)",
          },
          creativity: {
            type: "number",
            title: "Creativity",
            description: "Higher values let the model deviate more from the original image.",
            default: 0.35,
            minimum: 0,
            maximum: 1,
          },
          resemblance: {
            type: "number",
            title: "Resemblance",
            description: "Higher values keep the result closer to the original image.",
            default: 0.6,
            minimum: 0,
            maximum: 1,
          },
          guidance_scale: {
            type: "number",
            title: "Guidance Scale",
            description: "How closely the model sticks to your prompt.",
            default: 4,
            minimum: 0,
            maximum: 20,
          },
          num_inference_steps: {
            type: "integer",
            title: "Number of Inference Steps",
            description: "The number of inference steps to perform.",
            default: 18,
            minimum: 4,
            maximum: 50,
          },
          seed: seedField,
          enable_safety_checker: safetyField,
        },
        required: ["image_url"],
        "x-fal-order-properties": [
          "image_url",
          "prompt",
          "upscale_factor",
          "negative_prompt",
          "creativity",
          "resemblance",
          "guidance_scale",
          "num_inference_steps",
          "seed",
          "enable_safety_checker",
        ],
      },
      ClarityUpscalerOutput: {
        type: "object",
        title: "Output",
        properties: {
          image: { ...ref("Image"), description: "The URL of the generated image." },
          seed: {
            type: "integer",
            title: "Seed",
            description: "The seed used to generate the image.",
          },
          timings: { type: "object", title: "Timings", additionalProperties: { type: "number" } },
        },
        required: ["image", "seed", "timings"],
      },
    },
    pricing: {
      unit_price: 0.03,
      unit: "megapixels",
      currency: "USD",
      historical_units_per_call: 4,
    },
  },
  {
    endpointId: "fal-ai/kling-video/v2/master/text-to-video",
    generator: "text-to-video",
    metadata: {
      display_name: "Kling 2.0 Master",
      category: "text-to-video",
      description: "Generate video clips from your prompts using Kling 2.0 Master, with fluid " +
        "motion and strong prompt adherence.",
      status: "active",
      tags: ["motion", "text-to-video", "kling"],
      updated_at: UPDATED,
      is_favorited: false,
      license_type: "commercial",
      date: "2025-04-15T00:00:00.000Z",
      group: { key: "kling-video-v2", label: "Text to Video v2 Master" },
      highlighted: true,
      kind: "inference",
      pinned: false,
    },
    inputSchema: "KlingV2MasterTextToVideoInput",
    outputSchema: "KlingV2MasterTextToVideoOutput",
    schemas: {
      KlingV2MasterTextToVideoInput: {
        type: "object",
        title: "TextToVideoV2MasterRequest",
        properties: {
          prompt: promptField("A red fox runs through fresh snow at golden hour.", 2500),
          duration: {
            type: "string",
            title: "Duration",
            description: "The duration of the generated video in seconds.",
            enum: ["5", "10"],
            default: "5",
          },
          aspect_ratio: {
            type: "string",
            title: "Aspect Ratio",
            description: "The aspect ratio of the generated video frame.",
            enum: ["16:9", "9:16", "1:1"],
            default: "16:9",
          },
          negative_prompt: {
            type: "string",
            title: "Negative Prompt",
            default: "blur, distort, and low quality",
            maxLength: 2500,
          },
          cfg_scale: {
            type: "number",
            title: "Cfg Scale",
            description: "How closely the model sticks to your prompt.",
            default: 0.5,
            minimum: 0,
            maximum: 1,
          },
        },
        required: ["prompt"],
        "x-fal-order-properties": [
          "prompt",
          "duration",
          "aspect_ratio",
          "negative_prompt",
          "cfg_scale",
        ],
      },
      KlingV2MasterTextToVideoOutput: {
        type: "object",
        title: "TextToVideoV2MasterOutput",
        properties: { video: { ...ref("File"), description: "The generated video." } },
        required: ["video"],
      },
    },
    pricing: { unit_price: 0.28, unit: "second", currency: "USD", historical_units_per_call: 6 },
  },
  {
    endpointId: "fal-ai/wan-i2v",
    generator: "image-to-video",
    metadata: {
      display_name: "Wan-2.1 Image-to-Video",
      category: "image-to-video",
      description: "Wan-2.1 turns a still image into a short video clip with high visual quality " +
        "and motion diversity.",
      status: "active",
      tags: ["image-to-video", "motion", "wan"],
      updated_at: UPDATED,
      is_favorited: false,
      license_type: "commercial",
      date: "2025-02-26T00:00:00.000Z",
      highlighted: false,
      kind: "inference",
      pinned: false,
    },
    inputSchema: "WanI2VInput",
    outputSchema: "WanI2VOutput",
    schemas: {
      WanI2VInput: {
        type: "object",
        title: "WanI2VRequest",
        properties: {
          prompt: promptField("The cat slowly turns its head and blinks."),
          image_url: imageUrlField("The URL of the image to use as the first frame."),
          negative_prompt: {
            type: "string",
            title: "Negative Prompt",
            default: "bright colors, overexposed, static, blurred details, subtitles, worst " +
              "quality, low quality",
          },
          num_frames: {
            type: "integer",
            title: "Num Frames",
            description: "Number of frames to generate.",
            default: 81,
            minimum: 81,
            maximum: 100,
          },
          frames_per_second: {
            type: "integer",
            title: "Frames Per Second",
            default: 16,
            minimum: 5,
            maximum: 24,
          },
          seed: seedField,
          resolution: {
            type: "string",
            title: "Resolution",
            description: "Resolution of the generated video.",
            enum: ["480p", "720p"],
            default: "720p",
          },
          num_inference_steps: {
            type: "integer",
            title: "Num Inference Steps",
            default: 30,
            minimum: 2,
            maximum: 40,
          },
          guide_scale: {
            type: "number",
            title: "Guide Scale",
            default: 5,
            minimum: 1,
            maximum: 10,
          },
          shift: { type: "number", title: "Shift", default: 5, minimum: 1, maximum: 10 },
          enable_safety_checker: { ...safetyField, default: false },
          enable_prompt_expansion: {
            type: "boolean",
            title: "Enable Prompt Expansion",
            default: false,
          },
          aspect_ratio: {
            type: "string",
            title: "Aspect Ratio",
            description: "Aspect ratio of the video; auto follows the input image.",
            enum: ["auto", "16:9", "9:16", "1:1"],
            default: "auto",
          },
          acceleration: {
            type: "string",
            title: "Acceleration",
            enum: ["none", "regular"],
            default: "regular",
          },
        },
        required: ["prompt", "image_url"],
        "x-fal-order-properties": [
          "prompt",
          "image_url",
          "negative_prompt",
          "num_frames",
          "frames_per_second",
          "seed",
          "resolution",
          "num_inference_steps",
          "guide_scale",
          "shift",
          "enable_safety_checker",
          "enable_prompt_expansion",
          "aspect_ratio",
          "acceleration",
        ],
      },
      WanI2VOutput: {
        type: "object",
        title: "WanI2VResponse",
        properties: {
          video: { ...ref("File"), description: "The generated video file." },
          seed: { type: "integer", title: "Seed", description: "The seed used for generation." },
        },
        required: ["video", "seed"],
      },
    },
    pricing: { unit_price: 0.4, unit: "video", currency: "USD", historical_units_per_call: 1 },
  },
  {
    endpointId: "fal-ai/kokoro/american-english",
    generator: "text-to-speech",
    metadata: {
      display_name: "Kokoro TTS (American English)",
      category: "text-to-speech",
      description: "Kokoro is a lightweight text-to-speech model with natural American English " +
        "voices.",
      status: "active",
      tags: ["speech", "tts", "kokoro"],
      updated_at: UPDATED,
      is_favorited: false,
      license_type: "commercial",
      date: "2025-01-22T00:00:00.000Z",
      group: { key: "kokoro", label: "American English" },
      highlighted: false,
      kind: "inference",
      pinned: false,
    },
    inputSchema: "KokoroInput",
    outputSchema: "KokoroOutput",
    schemas: {
      KokoroInput: {
        type: "object",
        title: "AmEnglishRequest",
        properties: {
          prompt: {
            type: "string",
            title: "Prompt",
            description: "The text to turn into speech.",
            examples: ["The quick brown fox jumped over the lazy dog."],
            minLength: 1,
          },
          voice: {
            type: "string",
            title: "Voice",
            description: "Voice ID for the desired voice.",
            enum: [
              "af_heart",
              "af_alloy",
              "af_aoede",
              "af_bella",
              "af_jessica",
              "af_kore",
              "af_nicole",
              "af_nova",
              "af_river",
              "af_sarah",
              "af_sky",
              "am_adam",
              "am_echo",
              "am_eric",
              "am_fenrir",
              "am_liam",
              "am_michael",
              "am_onyx",
              "am_puck",
              "am_santa",
            ],
            default: "af_heart",
          },
          speed: {
            type: "number",
            title: "Speed",
            description: "Speed of the generated audio.",
            default: 1,
            minimum: 0.1,
            maximum: 5,
          },
        },
        required: ["prompt"],
        "x-fal-order-properties": ["prompt", "voice", "speed"],
      },
      KokoroOutput: {
        type: "object",
        title: "AmEnglishOutput",
        properties: { audio: { ...ref("File"), description: "The generated music." } },
        required: ["audio"],
      },
    },
    pricing: {
      unit_price: 0.02,
      unit: "1000 characters",
      currency: "USD",
      historical_units_per_call: 0.4,
    },
  },
  {
    endpointId: "fal-ai/lyria2",
    generator: "music",
    metadata: {
      display_name: "Lyria 2",
      category: "text-to-audio",
      description: "Lyria 2 generates 30-second instrumental music clips from a text description.",
      status: "active",
      tags: ["music", "audio", "google"],
      updated_at: UPDATED,
      is_favorited: false,
      license_type: "commercial",
      date: "2025-05-20T00:00:00.000Z",
      highlighted: false,
      kind: "inference",
      pinned: false,
    },
    inputSchema: "Lyria2Input",
    outputSchema: "Lyria2Output",
    schemas: {
      Lyria2Input: {
        type: "object",
        title: "TextToMusicInput",
        properties: {
          prompt: promptField("A calm lo-fi beat with soft piano and vinyl crackle.", 2000),
          negative_prompt: {
            type: "string",
            title: "Negative Prompt",
            description: "A description of what to exclude from the generated audio.",
            default: "low quality",
          },
          seed: seedField,
        },
        required: ["prompt"],
        "x-fal-order-properties": ["prompt", "negative_prompt", "seed"],
      },
      Lyria2Output: {
        type: "object",
        title: "TextToMusicOutput",
        properties: { audio: { ...ref("File"), description: "The generated music." } },
        required: ["audio"],
      },
    },
    pricing: { unit_price: 0.1, unit: "request", currency: "USD", historical_units_per_call: 1 },
  },
  {
    endpointId: "fal-ai/whisper",
    generator: "speech-to-text",
    metadata: {
      display_name: "Whisper",
      category: "speech-to-text",
      description:
        "Whisper transcribes and translates speech in many languages, with timestamped " +
        "chunks and optional speaker diarization.",
      status: "active",
      tags: ["transcription", "speech", "asr"],
      updated_at: UPDATED,
      is_favorited: false,
      license_type: "commercial",
      date: "2023-11-15T00:00:00.000Z",
      highlighted: false,
      kind: "inference",
      pinned: false,
    },
    inputSchema: "WhisperInput",
    outputSchema: "WhisperOutput",
    schemas: {
      WhisperInput: {
        type: "object",
        title: "WhisperInput",
        properties: {
          audio_url: {
            type: "string",
            title: "Audio Url",
            description: "URL of the audio file to transcribe (mp3, mp4, mpeg, mpga, m4a, wav, " +
              "webm).",
            examples: ["https://storage.googleapis.com/falserverless/example_inputs/speech.wav"],
          },
          task: {
            type: "string",
            title: "Task",
            description: "Task to perform on the audio file.",
            enum: ["transcribe", "translate"],
            default: "transcribe",
          },
          language: {
            type: "string",
            title: "Language",
            description: "Language of the audio file; detected when omitted.",
            enum: WHISPER_LANGUAGES,
            nullable: true,
          },
          diarize: {
            type: "boolean",
            title: "Diarize",
            description: "Whether to diarize the audio file.",
            default: false,
          },
          chunk_level: {
            type: "string",
            title: "Chunk Level",
            description: "Level of the chunks to return.",
            enum: ["none", "segment", "word"],
            default: "segment",
          },
          version: {
            type: "string",
            title: "Version",
            description: "Version of the model to use.",
            enum: ["3"],
            default: "3",
          },
          batch_size: {
            type: "integer",
            title: "Batch Size",
            default: 64,
            minimum: 1,
            maximum: 64,
          },
          prompt: {
            type: "string",
            title: "Prompt",
            description: "Prompt to use for generation.",
            default: "",
          },
          num_speakers: {
            type: "integer",
            title: "Num Speakers",
            description: "Number of speakers in the audio file.",
            minimum: 1,
            nullable: true,
          },
        },
        required: ["audio_url"],
        "x-fal-order-properties": [
          "audio_url",
          "task",
          "language",
          "diarize",
          "chunk_level",
          "version",
          "batch_size",
          "prompt",
          "num_speakers",
        ],
      },
      WhisperOutput: {
        type: "object",
        title: "WhisperOutput",
        properties: {
          text: { type: "string", title: "Text", description: "Transcription of the audio file." },
          chunks: {
            type: "array",
            title: "Chunks",
            description: "Timestamp chunks of the audio file.",
            items: ref("WhisperChunk"),
          },
          inferred_languages: {
            type: "array",
            title: "Inferred Languages",
            description: "List of languages that the audio file is inferred to be.",
            items: { type: "string" },
          },
          diarization_segments: {
            type: "array",
            title: "Diarization Segments",
            items: ref("DiarizationSegment"),
          },
        },
        required: ["text", "inferred_languages", "diarization_segments"],
      },
    },
    pricing: {
      unit_price: 0.00111,
      unit: "compute seconds",
      currency: "USD",
      historical_units_per_call: 12,
    },
  },
  {
    endpointId: "fal-ai/stable-diffusion-v15",
    generator: "text-to-image",
    openapiExpansionFails: true,
    metadata: {
      display_name: "Stable Diffusion v1.5",
      category: "text-to-image",
      description:
        "The original Stable Diffusion 1.5 text-to-image model. Deprecated: use FLUX.1 " +
        "instead.",
      status: "deprecated",
      tags: ["stable diffusion", "legacy"],
      updated_at: "2024-02-01T00:00:00.000Z",
      is_favorited: false,
      license_type: "research",
      date: "2023-06-01T00:00:00.000Z",
      highlighted: false,
      kind: "inference",
      pinned: false,
    },
    inputSchema: "StableDiffusionV15Input",
    outputSchema: "StableDiffusionV15Output",
    schemas: {
      StableDiffusionV15Input: {
        type: "object",
        title: "TextToImageInput",
        properties: {
          prompt: promptField("A watercolor painting of a mountain village."),
          negative_prompt: { type: "string", title: "Negative Prompt", default: "" },
          image_size: imageSizeField("square"),
          num_inference_steps: {
            type: "integer",
            title: "Num Inference Steps",
            default: 25,
            minimum: 1,
            maximum: 50,
          },
          guidance_scale: {
            type: "number",
            title: "Guidance Scale",
            default: 7.5,
            minimum: 0,
            maximum: 20,
          },
          seed: seedField,
          num_images: { ...numImagesField, maximum: 8 },
          enable_safety_checker: safetyField,
          output_format: outputFormatField,
          sync_mode: syncModeField,
        },
        required: ["prompt"],
      },
      StableDiffusionV15Output: imagesOutput("Output"),
    },
    pricing: { unit_price: 0.001, unit: "image", currency: "USD", historical_units_per_call: 1 },
  },
];

const BY_ID: ReadonlyMap<string, CatalogueModel> = new Map(
  CATALOGUE.map((model) => [model.endpointId, model]),
);

/** The catalogue entry for a full endpoint id, if the fake serves it. */
export function findModel(endpointId: string): CatalogueModel | undefined {
  return BY_ID.get(endpointId);
}

/** Path of the media file used as a model's thumbnail (served under `/files/`). */
export function thumbnailName(model: CatalogueModel): string {
  return `thumbnails/${model.endpointId.replaceAll("/", "_")}.png`;
}

/** Full `/v1/models` metadata of a model, with URLs on `origin`. */
export function modelMetadata(model: CatalogueModel, origin: string): ModelMetadata {
  return {
    ...model.metadata,
    tags: [...model.metadata.tags],
    thumbnail_url: `${origin}/files/${thumbnailName(model)}`,
    model_url: `${origin}/run/${model.endpointId}`,
  };
}

/** Every schema name a model's schemas (transitively) reference, shared ones included. */
function referencedSchemas(model: CatalogueModel): Record<string, JsonSchema> {
  const all: Record<string, JsonSchema> = { ...SHARED_SCHEMAS, ...model.schemas };
  const out: Record<string, JsonSchema> = {};
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) {
      value.forEach(visit);
    } else if (value !== null && typeof value === "object") {
      for (const [key, child] of Object.entries(value)) {
        if (key === "$ref" && typeof child === "string") {
          const name = child.replace("#/components/schemas/", "");
          const schema = all[name];
          if (schema && !(name in out)) {
            out[name] = schema;
            visit(schema);
          }
        } else {
          visit(child);
        }
      }
    }
  };
  out.QueueStatus = SHARED_SCHEMAS.QueueStatus!;
  for (const [name, schema] of Object.entries(model.schemas)) {
    out[name] = schema;
    visit(schema);
  }
  return out;
}

/** All schemas a model can resolve `$ref`s against (its own plus the shared ones). */
export function schemasOf(model: CatalogueModel): Readonly<Record<string, JsonSchema>> {
  return { ...SHARED_SCHEMAS, ...model.schemas };
}

/** The OpenAPI 3.0 document of a model's queue endpoint, like fal's `expand=openapi-3.0`. */
export function openApiDocument(model: CatalogueModel, origin: string): Record<string, unknown> {
  const id = model.endpointId;
  const requestId = {
    name: "request_id",
    in: "path",
    required: true,
    schema: { type: "string", description: "Request ID" },
  };
  const json = (schema: JsonSchema) => ({ "application/json": { schema } });
  return structuredClone({
    openapi: "3.0.4",
    info: {
      title: `Queue OpenAPI for ${id}`,
      version: "1.0.0",
      description: `The OpenAPI schema for the ${id} queue.`,
      "x-fal-metadata": {
        endpointId: id,
        category: model.metadata.category,
        thumbnailUrl: `${origin}/files/${thumbnailName(model)}`,
        playgroundUrl: `https://fal.ai/models/${id}`,
        documentationUrl: `https://fal.ai/models/${id}/api`,
      },
    },
    components: {
      securitySchemes: {
        apiKeyAuth: { type: "apiKey", in: "header", name: "Authorization", description: "Fal Key" },
      },
      schemas: referencedSchemas(model),
    },
    paths: {
      [`/${id}/requests/{request_id}/status`]: {
        get: {
          parameters: [
            requestId,
            {
              name: "logs",
              in: "query",
              required: false,
              schema: {
                type: "number",
                description: "Whether to include logs (`1`) in the response or not (`0`).",
              },
            },
          ],
          responses: {
            "200": { description: "The request status.", content: json(ref("QueueStatus")) },
          },
        },
      },
      [`/${id}/requests/{request_id}/cancel`]: {
        put: {
          parameters: [requestId],
          responses: {
            "200": {
              description: "The request was cancelled.",
              content: json({
                type: "object",
                properties: {
                  success: {
                    type: "boolean",
                    description: "Whether the request was cancelled successfully.",
                  },
                },
              }),
            },
          },
        },
      },
      [`/${id}`]: {
        post: {
          requestBody: { required: true, content: json(ref(model.inputSchema)) },
          responses: {
            "200": { description: "The request status.", content: json(ref("QueueStatus")) },
          },
        },
      },
      [`/${id}/requests/{request_id}`]: {
        get: {
          parameters: [requestId],
          responses: {
            "200": {
              description: "Result of the request.",
              content: json(ref(model.outputSchema)),
            },
          },
        },
      },
    },
    servers: [{ url: `${origin}/queue` }],
    security: [{ apiKeyAuth: [] }],
  });
}
