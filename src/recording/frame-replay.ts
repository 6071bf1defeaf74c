import type { CameraImage, FrameSet } from '../core/messages.js';
import { InputError } from '../core/errors.js';
import { decodePng } from './image-codec.js';
import { IMAGE_CHANNEL_PREFIX } from './schemas.js';

/**
 * Puts recorded FrameSets back together for replay: the recorder writes each camera's image on its own Foxglove
 * channel just before the FrameSet record that names the channel (schemas.ts `ownMessage`), so the latest image
 * per channel is the one the record refers to. PNG and raw images come back bit-exact; a JPEG log replays with its
 * lossy pixels (said in `lossy`). Slots whose image was not recorded (thinned, disk low) come back as holes.
 */
export class FrameSetAssembler {
  private readonly latest = new Map<string, { seqTime: bigint; msg: Record<string, unknown> }>();
  lossy = false;
  /** FrameSet records whose images were missing from the log (counted, and replayed as holes). */
  missingImages = 0;

  isImageChannel(topic: string): boolean {
    return topic.startsWith(IMAGE_CHANNEL_PREFIX);
  }

  /** Keeps an image message (raw JSON object: foxglove.CompressedImage or RawImage) until its FrameSet comes. */
  image(topic: string, msg: Record<string, unknown>, logTimeNs: bigint): void {
    this.latest.set(topic, { seqTime: logTimeNs, msg });
  }

  assemble(record: FrameSet, logTimeNs: bigint): FrameSet {
    const holes = [...record.holes];
    const images = record.images.map((ref) => {
      if (!ref) return null;
      const r = ref as CameraImage & { channel?: string; data?: Uint8Array };
      if (r.data instanceof Uint8Array && r.data.length > 0) return r; // an old log with pixels inline
      const got = r.channel ? this.latest.get(r.channel) : undefined;
      if (!got || got.seqTime !== logTimeNs) {
        this.missingImages++;
        holes.push(`${r.rig}/${r.side}`);
        return null;
      }
      const { channel: _c, ...meta } = r;
      return { ...meta, data: this.pixels(r.channel!, got.msg, r) };
    });
    return { ...record, images, holes };
  }

  private pixels(channel: string, m: Record<string, unknown>, ref: CameraImage): Uint8Array {
    const where = `${channel} image of FrameSet ${ref.seq}`;
    const data = m.data instanceof Uint8Array ? m.data : typeof m.data === 'string' ? new Uint8Array(Buffer.from(m.data, 'base64')) : null;
    if (!data) throw new InputError('image message without data', where);
    if (m.format === 'png') return decodePng(data, where).data;
    if (m.format === 'jpeg') {
      this.lossy = true;
      throw new InputError('JPEG images cannot be replayed into perception yet (record with recording.images.format png)', where);
    }
    if (m.encoding === 'mono8' || m.encoding === 'rgb8') return data;
    throw new InputError(`image format ${JSON.stringify(m.format ?? m.encoding)} is not one racepilot writes`, where);
  }
}
