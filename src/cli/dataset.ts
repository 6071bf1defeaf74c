import { RacepilotError, UsageError } from '../core/errors.js';
import { generateDataset } from '../sim/render/dataset.js';
import { Progress } from './progress.js';
import { parseCommandArgs } from './args.js';

const USAGE = `usage: racepilot dataset --out DIR --count N --seed S [options]

Renders a gate training set in the format of ../shared/data/gates/airr-onboard: img_N.png, mask_N.png (gate frame
0/255) and corners.csv (no header; file,x1,y1,x2,y2,x3,y3,x4,y4: inner corners TL, TR, BR, BL, one row per visible
gate). The lens is the default rig's front-left camera scaled to the image size. Same seed, same files.

options:
  --out DIR          output folder (created; files in it are overwritten)
  --count N          number of images
  --seed S           integer seed
  --width W          image width in pixels (default 360)
  --height H         image height in pixels (default 270)
  --gray             8-bit grayscale images instead of RGB
  --scene-every K    a new hall, course and gate print every K images (default 25)
  --json             print a summary as one JSON object on stdout
  --help             this text
`;

function intArg(name: string, v: string | undefined, def: number | null, min: number, max: number): number {
  if (v === undefined) {
    if (def === null) throw new UsageError(`--${name} is required\n\n${USAGE}`);
    return def;
  }
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    {
        out: { type: 'string' },
        count: { type: 'string' },
        seed: { type: 'string' },
        width: { type: 'string' },
        height: { type: 'string' },
        gray: { type: 'boolean', default: false },
        'scene-every': { type: 'string' },
        json: { type: 'boolean', default: false },
    },
    USAGE,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  const out = values.out;
  if (!out) throw new UsageError(`--out is required\n\n${USAGE}`);
  const count = intArg('count', values.count, null, 1, 10_000_000);
  const seed = intArg('seed', values.seed, null, 0, 0x7fffffff);
  const width = intArg('width', values.width, 360, 16, 4096);
  const height = intArg('height', values.height, 270, 16, 4096);
  const sceneEvery = intArg('scene-every', values['scene-every'], 25, 1, 10_000_000);
  const progress = new Progress(count, 'dataset');
  const summary = writing(out, () => generateDataset({
    out,
    count,
    seed,
    width,
    height,
    channels: values.gray ? 1 : 3,
    sceneEvery,
    onImage: () => progress.tick(),
  }));
  if (values.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else
    process.stdout.write(
      `wrote ${summary.images} images, ${summary.rows} gate labels (${summary.imagesWithoutGate} images without a visible gate) from ${summary.scenes} scenes to ${summary.out}\n`,
    );
  return 0;
}

/** File-system failures on the output folder become one clear line naming it (exit 73, EX_CANTCREAT). */
function writing<T>(out: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) throw new RacepilotError(`cannot write the dataset: ${(err as Error).message}`, out, 73, { cause: err });
    throw err;
  }
}
