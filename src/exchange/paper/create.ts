// PLACEHOLDER until the paper exchange lands (issue 2): replaced by PaperExchange.
import type { AppContext } from '../../app/context.js';
import { AppError } from '../../errors.js';
import type { Exchange } from '../types.js';

export function createPaperExchange(_ctx: AppContext): Exchange {
  throw new AppError('internal', 'not_built', 'The paper exchange is not built yet.');
}
