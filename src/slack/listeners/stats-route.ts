// `/stats [24h|7d|30d|all]`: the figures in the channel, and the equity-and-drawdown chart of the
// same window in that message's thread (files.uploadV2). The reply goes to the channel because an
// ephemeral message cannot have a thread; if the bot may not post there, the figures come back
// ephemerally with a note instead.
import { drawStatsChart, statsCommand } from '../../../commands/stats.js';
import { readStatsPeriod, STATS_PERIODS } from '../../domain/stats-periods.js';
import { didYouMean } from '../../suggest-similar.js';
import { context } from '../views/message.js';
import { periodLabel, renderNoChart, renderStats } from '../views/stats.js';
import { usageError } from './routes.js';
import type { SlashRequest, SlashSubcommand } from './types.js';

export const STATS_USAGE = '/stats [24h|7d|30d|all]';

export function parseStatsText(rest: string): { period: (typeof STATS_PERIODS)[number] } {
  // The same period words as `ctb stats [period]` (domain/stats-periods.ts).
  const words = rest.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return { period: 'all' };
  const period = words.length === 1 ? readStatsPeriod(words[0]!) : undefined;
  if (period) return { period };
  const hint = words.length === 1 ? didYouMean(words[0]!.toLowerCase(), STATS_PERIODS) : '';
  throw usageError(`\`/stats\` takes one period: ${STATS_PERIODS.join(', ')} (default all), got "${rest.trim()}".${hint}`);
}

async function postChart(req: SlashRequest, result: Awaited<ReturnType<typeof statsCommand.run>>, channel: string, threadTs: string): Promise<void> {
  const chart = await drawStatsChart(req.ctx, result, `Equity and drawdown — ${periodLabel(result)}`);
  if (!chart) {
    await req.reply.post(channel, renderNoChart(result), { threadTs });
    return;
  }
  await req.client.filesUploadV2({
    channel_id: channel,
    thread_ts: threadTs,
    file: chart.png,
    filename: `equity-${result.period}.png`,
    title: `Equity and drawdown — ${periodLabel(result)}`,
    alt_text: `Equity and drawdown chart, ${periodLabel(result)}, ${chart.points} points`,
  });
}

export const statsRoute: SlashSubcommand = {
  name: null,
  usage: STATS_USAGE,
  summary: 'PnL, ROI, win rate, drawdown and exposure over a window, with the equity chart',
  role: 'reader',
  async handle(req) {
    const args = parseStatsText(req.rest);
    const result = await req.run(statsCommand, args);
    const channel = req.body.channel_id;
    let posted: { ts: string } | null = null;
    try {
      posted = await req.reply.post(channel, renderStats(result));
    } catch (err) {
      req.logger.warn({ err, channel }, '/stats could not post in the channel; answering ephemerally');
      const message = renderStats(result);
      await req.reply.ephemeral({
        text: message.text,
        blocks: [...message.blocks, context('I could not post in this channel, so there is no chart thread. Invite the bot to the channel to get the chart.')],
      });
      return;
    }
    try {
      await postChart(req, result, channel, posted.ts);
    } catch (err) {
      req.logger.error({ err, channel }, '/stats chart could not be uploaded');
      await req.reply.post(channel, { text: 'The equity chart could not be uploaded; the figures above stand.', blocks: [context('The equity chart could not be uploaded; the figures above stand.')] }, { threadTs: posted.ts });
    }
  },
};
