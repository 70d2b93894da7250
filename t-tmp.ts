import { loadConfig } from './src/config/load.ts';
try { const r = await loadConfig(process.argv[2] ?? 'config', {}); console.log(JSON.stringify(r, null, 1)); } catch (e: any) { console.log(e.problems ?? e); }
