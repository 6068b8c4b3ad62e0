// The order test files start in (tests/support/worker-order.ts), as vitest's sequencer: a module of
// its own, as it imports vitest's node API, which the order's test need not load.
import { BaseSequencer, type TestSpecification } from 'vitest/node';
import { workerOrder } from './worker-order.js';

export default class LongestFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    return workerOrder(await super.sort(files), (spec) => spec.moduleId, (spec) => spec.project.config.isolate === false);
  }
}
