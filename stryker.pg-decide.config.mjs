import { target } from './stryker.base.mjs';

// The pg controller's failover rules (actors/pg/decide.ts) against their sentences (test/actors/pg-decide.test.ts).
export default target('pg-decide', 'actors/pg/decide.ts', 'test/actors/pg-decide.test.ts');
