import { createMemoryStore } from '../../src/storage/memory/memory-store.ts';
import { documentStoreConformance, injectedClockConformance } from './document-store.suite.ts';

// The memory store keeps nothing across instances, so it offers no `reopen`.
documentStoreConformance('memory', async () => {
  const store = createMemoryStore();
  return { store, cleanup: () => store.close() };
});

injectedClockConformance('memory', async (clock) => {
  const store = createMemoryStore({ clock });
  return { store, cleanup: () => store.close() };
});
