#!/usr/bin/env bash
# Regenerates the replay test logs in test/replay/logs/ after a deliberate change of behaviour (npm run
# regen-replay-logs). The clean lap is `racepilot sim --perception truth --record` on the short test track; the
# disturbed flights (sighting blackout, pilot takeover, link loss) come from test/replay/scenarios.ts, which
# injects what `racepilot sim` has no option for. Review the diff of `racepilot replay` figures before committing.
set -euo pipefail
cd "$(dirname "$0")/.."
# tsc emits even with type errors elsewhere in the tree; the logs need only what compiled.
npx tsc -p tsconfig.json || echo "regen-replay-logs: tsc reported type errors (output emitted anyway)" >&2
logs=test/replay/logs
mkdir -p "$logs"
rm -f "$logs"/*.mcap
node bin/racepilot.js sim --perception truth --track test/replay/tracks/short-line.json --seed 1 --json \
  --record "$logs/clean-lap.mcap" >/dev/null
node --input-type=module -e "
const m = await import('./dist/test/replay/scenarios.js');
for (const f of await m.regenerateScenarios()) console.log(f);
"
ls -l "$logs"
