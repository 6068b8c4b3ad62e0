// `app_home_opened` → views.publish: the dashboard is read fresh each time someone opens the Home tab.
// Reading it is not an operator command, so it is not written to command_log. If it cannot be read,
// the tab says so with a reference id that is also in the log.
import { readDashboard } from '../../services/dashboard/read-dashboard.js';
import { describeSlackError } from '../report-error.js';
import { renderAppHome, renderAppHomeError } from '../views/app-home.js';
import type { EventRow } from './types.js';

export const appHomeRow: EventRow = {
  event: 'app_home_opened',
  async handle(req) {
    const e = req.event as { type: string; user?: string; tab?: string };
    if (e.tab !== undefined && e.tab !== 'home') return; // the Messages tab needs nothing from us
    if (!e.user) return;
    let view;
    try {
      view = renderAppHome(await readDashboard(req.ctx));
    } catch (err) {
      view = renderAppHomeError(describeSlackError(req.logger, err, { event: 'app_home_opened' }).reference);
    }
    await req.client.views.publish({ user_id: e.user, view });
  },
};
