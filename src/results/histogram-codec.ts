/**
 * The wire form of herd's HDR histograms (compressed base64, 32-bit buckets): how they cross
 * process boundaries and sit in results.json. Part of the results contract so the schema can
 * check a histogram decodes without importing metrics/.
 */
import * as hdr from 'hdr-histogram-js';

export type Histogram = hdr.Histogram;

export function encodeHistogram(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

/** A string that is not an encoded histogram (a hand-edited or foreign results file). */
export class HistogramDecodeError extends Error {}

export function decodeHistogram(encoded: string): Histogram {
  let h: Histogram;
  try {
    h = hdr.decodeFromCompressedBase64(encoded, 32, false);
  } catch (err) {
    throw new HistogramDecodeError(
      `not an encoded HDR histogram (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  h.autoResize = true;
  return h;
}
