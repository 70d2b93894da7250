import { ManualClock } from '../../../../src/shared/clock.ts';
import { createMemoryStore } from '../../../../src/storage/memory/memory-store.ts';
import { connectorPortsSuite } from './ports.suite.ts';

connectorPortsSuite('memory', async () => {
  const clock = new ManualClock();
  const store = createMemoryStore({ clock });
  return { store, elapse: async (ms) => clock.advance(ms), cleanup: () => store.close() };
}, { multiInstance: false });
