/**
 * Sparse files for upload tests and benchmarks: any size, no disk blocks used.
 *
 * @module
 */

/** Creates a sparse file of `size` bytes at `path`. */
export async function sparseFile(path: string, size: number): Promise<void> {
  const file = await Deno.open(path, { write: true, create: true, truncate: true });
  try {
    await file.truncate(size);
  } finally {
    file.close();
  }
}
