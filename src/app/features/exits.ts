// The exits part of the running bot: every two seconds, on every replica, the sweep that tells the
// alert channel how an exit ended when its requester did not show the answer (it died while
// waiting, or stopped waiting first). Claims make it safe on many replicas: each outcome is told once.
import type { Feature } from '../feature.js';
import { tellUnshownExits } from '../../services/exits/tell-exit.js';

export const EXIT_OUTCOMES_JOB = 'exit-outcomes';

export const exitsFeature: Feature = {
  name: 'exits',
  roles: ['all', 'web', 'worker'],
  async start(ctx) {
    ctx.jobs.register({ name: EXIT_OUTCOMES_JOB, schedule: '*/2 * * * * *', trades: false, run: async () => void (await tellUnshownExits(ctx)) });
  },
};
