import { test } from 'node:test';
import assert from 'node:assert/strict';
import { framerate, pipelineArgs, rigStreams } from '../../src/camera/presets.js';
import { defaultRigs, rigSchema } from '../../src/core/config/camera.js';

// Grey frames here; the RGB conversion chain is checked on its own below.
const base = { ...defaultRigs[0]!, format: 'GRAY8' as const };

test('Jetson CSI preset: one nvarguscamerasrc pipeline per sensor, converted on the VIC to the configured format', () => {
  const streams = rigStreams(rigSchema.parse({ ...base, source: { preset: 'jetson-csi', sensorIds: [2, 3] } }), 0);
  assert.equal(streams.length, 2);
  assert.deepEqual(
    streams.map((s) => [s.name, s.layout, s.side, s.frameBytes]),
    [
      ['front/left', 'mono', 'left', 640 * 480],
      ['front/right', 'mono', 'right', 640 * 480],
    ],
  );
  assert.equal(
    streams[0]!.pipeline,
    'nvarguscamerasrc sensor-id=2 ! video/x-raw(memory:NVMM),width=640,height=480,framerate=30/1 ! nvvidconv ! video/x-raw,format=GRAY8,width=640,height=480,framerate=30/1',
  );
  assert.match(streams[1]!.pipeline, /sensor-id=3/);
  const rgb = rigStreams(rigSchema.parse({ ...base, format: 'RGB', source: { preset: 'jetson-csi', sensorIds: [0, 1] } }), 0);
  assert.match(rgb[0]!.pipeline, /nvvidconv ! video\/x-raw,format=BGRx ! videoconvert ! video\/x-raw,format=RGB,width=640/);
  assert.equal(rgb[0]!.frameBytes, 640 * 480 * 3);
});

test('USB side-by-side preset: one v4l2src pipeline of twice the width', () => {
  const [s] = rigStreams(rigSchema.parse({ ...base, source: { preset: 'usb-sbs', device: '/dev/video4' } }), 1);
  assert.equal(s!.layout, 'side-by-side');
  assert.equal(s!.frameBytes, 2 * 640 * 480);
  assert.equal(
    s!.pipeline,
    'v4l2src device=/dev/video4 ! image/jpeg,width=1280,height=480,framerate=30/1 ! jpegdec ! videoconvert ! video/x-raw,format=GRAY8,width=1280,height=480,framerate=30/1',
  );
  assert.match(s!.where, /camera rig "front" \(camera\.rigs\[1\]\.source\)/);
});

test('videotestsrc preset: one source for the whole frame, or two composed when the halves must differ', () => {
  const [one] = rigStreams(rigSchema.parse(base), 0, { live: false, numBuffers: 5 });
  assert.equal(one!.pipeline, 'videotestsrc is-live=false pattern=ball num-buffers=5 ! video/x-raw,format=GRAY8,width=1280,height=480,framerate=30/1');
  const [two] = rigStreams(rigSchema.parse({ ...base, source: { preset: 'videotestsrc', pattern: 'white', rightPattern: 'black' } }), 0);
  assert.match(two!.pipeline, /compositor name=m sink_0::xpos=0 sink_1::xpos=640/);
  assert.match(two!.pipeline, /pattern=black/);
});

test('pipeline text splits into arguments like a shell, quotes grouping', () => {
  assert.deepEqual(pipelineArgs(' a ! b  prop="x y" ! c '), ['a', '!', 'b', 'prop=x y', '!', 'c']);
  assert.deepEqual(pipelineArgs("caps='video/x-raw, format=GRAY8'"), ['caps=video/x-raw, format=GRAY8']);
  assert.throws(() => pipelineArgs('a "b'), /unbalanced/);
  assert.equal(framerate(30), '30/1');
  assert.equal(framerate(29.97), '29970/1000');
});
