// The kill switch as a part of the running bot (every role): the halt watcher (a persisted or
// remote halt stops this process within a poll). Started before the engine, so a bot restarted
// while halted never trades a candle.
import type { Feature } from '../../app/feature.js';
import { startHaltWatcher } from './halt-watcher.js';

export const killFeature: Feature = {
  name: 'kill',
  roles: ['all', 'web', 'worker'],
  async start(ctx) {
    const watcher = await startHaltWatcher(ctx);
    return {
      async stop() {
        await watcher.stop();
      },
    };
  },
};
