import { CameraIngest } from '../camera/camera-ingest.js';
import { allRigCameras } from '../camera/rig.js';
import type { TopicBus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Config } from '../core/config/schema.js';
import type { Logger } from '../core/logger.js';
import type { PerceptionStats, Topics } from '../core/messages.js';
import type { ModelInfo } from '../perception/model-info.js';
import { PerceptionStage } from '../perception/perception-stage.js';
import { openPerceptionLanes } from '../perception/perception-lanes.js';
import { trackGateInnerSize, type Track } from '../planning/track.js';

/**
 * The camera edge of a real flight (`race.cameras: "live"`): the rigs' GStreamer pipelines (camera/camera-ingest.ts)
 * put FrameSets on the bus, and the perception stage turns each into `perception/gates` with each FrameSet shared
 * between the perception lanes (a preprocessing and a detector worker each: perception-lanes.ts), and the gates' orientation aided by the attitude on
 * `fc/vehicle_state`. The detector opens (providers, self-test) before any camera starts, so a model that fails its
 * self-test stops the daemon before it has touched anything.
 */
export interface LivePerception {
  stats(): PerceptionStats;
  close(): Promise<void>;
}

export async function startLivePerception(o: { bus: TopicBus<Topics>; clock: Clock; config: Config; track: Track; log: Logger }): Promise<LivePerception> {
  const { bus, clock, config, track, log } = o;
  const perception = { ...config.perception, gateInnerSizeM: trackGateInnerSize(track, config.race.track ?? track.name) };
  const cameras = allRigCameras(config.camera.rigs);
  if (cameras.length === 0) throw new RangeError('race.cameras is "live" but no camera rig is enabled');
  const opened = await openPerceptionLanes(perception, log, cameras.length);
  const { detector } = opened;
  for (const w of channelMismatches(config.camera.rigs, detector.info)) log.warn(w, 'perception: camera format and model input differ');
  const stage = new PerceptionStage({ cfg: perception, cameras, lanes: opened.lanes, clock, log });
  const detach = stage.attach(bus);
  const ingest = new CameraIngest({
    config: config.camera, clock, bus, log,
    // One rig's pipeline that cannot work leaves holes in the FrameSets; the others fly on.
    onFatal: (err) => log.error({ err: err.message }, 'camera: a stream cannot run'),
  });
  ingest.start();
  log.info({ rigs: config.camera.rigs.filter((r) => r.enabled).map((r) => r.name), model: perception.model, provider: detector.provider }, 'live cameras and perception started');
  return {
    stats: () => ({ ...stage.stats }),
    async close() {
      detach();
      await ingest.stop();
      await stage.idle();
      await opened.close();
    },
  };
}

/**
 * Rigs whose pixel format does not give the model the channels it was trained on: the preprocessing converts
 * (grey replicated into three channels, colour to luminance), but the shipped colour model finds no gate in grey.
 */
export function channelMismatches(rigs: Config['camera']['rigs'], info: Pick<ModelInfo, 'input' | 'path'>): { rig: string; format: string; model: string; modelChannels: number }[] {
  return rigs
    .filter((r) => r.enabled && (r.format === 'RGB' ? 3 : 1) !== info.input.channels)
    .map((r) => ({ rig: r.name, format: r.format, model: info.path, modelChannels: info.input.channels }));
}
