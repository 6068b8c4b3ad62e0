// Builds the in-memory strategy instances from their definitions: one instance per (strategy, pair).
import { MaCrossover } from './ma-crossover.js';
import { Momentum } from './momentum.js';
import type { StrategyDefinition } from './config.js';
import type { Strategy } from './types.js';

export function buildStrategy(def: StrategyDefinition): Strategy {
  switch (def.type) {
    case 'ma_crossover':
      return new MaCrossover(def.name, def.params);
    case 'momentum':
      return new Momentum(def.name, def.params);
  }
}
